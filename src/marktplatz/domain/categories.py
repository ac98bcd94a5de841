"""The fixed vocabulary of shop categories and their OpenStreetMap tags."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ShopCategory(StrEnum):
    """Category of a shop; each maps to exactly one OpenStreetMap tag."""

    PHARMACY = "pharmacy"
    OPTICIAN = "optician"
    CLOTHES = "clothes"
    SHOES = "shoes"
    BOOKS = "books"
    BAKERY = "bakery"
    CAFE = "cafe"
    RESTAURANT = "restaurant"
    ICE_CREAM = "ice_cream"
    JEWELRY = "jewelry"
    TOYS = "toys"
    ELECTRONICS = "electronics"
    BUTCHER = "butcher"
    FLORIST = "florist"
    HAIRDRESSER = "hairdresser"
    CHEMIST = "chemist"
    SUPERMARKET = "supermarket"
    GIFT = "gift"
    STATIONERY = "stationery"
    SPORTS = "sports"
    HARDWARE = "hardware"
    FURNITURE = "furniture"
    BICYCLE = "bicycle"
    MOBILE_PHONE = "mobile_phone"
    WATCHES = "watches"
    DELI = "deli"
    WINE = "wine"
    TEA = "tea"
    TOBACCO = "tobacco"
    BEAUTY = "beauty"
    DEPARTMENT_STORE = "department_store"
    MALL = "mall"
    TOURIST_INFO = "tourist_info"


@dataclass(frozen=True, slots=True)
class CategoryInfo:
    """How a category is tagged in OpenStreetMap and named for people."""

    osm_key: str
    osm_value: str
    label_de: str
    label_en: str
    health: bool = False

    @property
    def osm_tag(self) -> str:
        return f"{self.osm_key}={self.osm_value}"


_C = ShopCategory
CATEGORIES: dict[ShopCategory, CategoryInfo] = {
    # Pharmacies are flagged as health-related: later content rules (HWG, special
    # categories of personal data) hang off this flag, not off the category name.
    _C.PHARMACY: CategoryInfo("amenity", "pharmacy", "Apotheke", "Pharmacy", health=True),
    _C.OPTICIAN: CategoryInfo("shop", "optician", "Optiker", "Optician", health=True),
    _C.CLOTHES: CategoryInfo("shop", "clothes", "Mode", "Fashion"),
    _C.SHOES: CategoryInfo("shop", "shoes", "Schuhe", "Shoes"),
    _C.BOOKS: CategoryInfo("shop", "books", "Buchhandlung", "Bookshop"),
    _C.BAKERY: CategoryInfo("shop", "bakery", "Bäckerei", "Bakery"),
    _C.CAFE: CategoryInfo("amenity", "cafe", "Café", "Café"),
    _C.RESTAURANT: CategoryInfo("amenity", "restaurant", "Restaurant", "Restaurant"),
    _C.ICE_CREAM: CategoryInfo("amenity", "ice_cream", "Eiscafé", "Ice cream parlour"),
    _C.JEWELRY: CategoryInfo("shop", "jewelry", "Schmuck", "Jewellery"),
    _C.TOYS: CategoryInfo("shop", "toys", "Spielwaren", "Toys"),
    _C.ELECTRONICS: CategoryInfo("shop", "electronics", "Elektronik", "Electronics"),
    _C.BUTCHER: CategoryInfo("shop", "butcher", "Metzgerei", "Butcher"),
    _C.FLORIST: CategoryInfo("shop", "florist", "Blumen", "Florist"),
    _C.HAIRDRESSER: CategoryInfo("shop", "hairdresser", "Friseur", "Hairdresser"),
    _C.CHEMIST: CategoryInfo("shop", "chemist", "Drogerie", "Chemist"),
    _C.SUPERMARKET: CategoryInfo("shop", "supermarket", "Lebensmittel", "Supermarket"),
    _C.GIFT: CategoryInfo("shop", "gift", "Geschenke", "Gifts"),
    _C.STATIONERY: CategoryInfo("shop", "stationery", "Schreibwaren", "Stationery"),
    _C.SPORTS: CategoryInfo("shop", "sports", "Sport", "Sports"),
    _C.HARDWARE: CategoryInfo("shop", "hardware", "Eisenwaren", "Hardware"),
    _C.FURNITURE: CategoryInfo("shop", "furniture", "Möbel & Wohnen", "Furniture"),
    _C.BICYCLE: CategoryInfo("shop", "bicycle", "Fahrräder", "Bicycles"),
    _C.MOBILE_PHONE: CategoryInfo("shop", "mobile_phone", "Mobilfunk", "Mobile phones"),
    _C.WATCHES: CategoryInfo("shop", "watches", "Uhren", "Watches"),
    _C.DELI: CategoryInfo("shop", "deli", "Feinkost", "Delicatessen"),
    _C.WINE: CategoryInfo("shop", "wine", "Wein", "Wine"),
    _C.TEA: CategoryInfo("shop", "tea", "Tee & Kaffee", "Tea & coffee"),
    _C.TOBACCO: CategoryInfo("shop", "tobacco", "Tabak & Presse", "Tobacco & newsagent"),
    _C.BEAUTY: CategoryInfo("shop", "beauty", "Kosmetik", "Beauty"),
    _C.DEPARTMENT_STORE: CategoryInfo("shop", "department_store", "Kaufhaus", "Department store"),
    _C.MALL: CategoryInfo("shop", "mall", "Einkaufszentrum", "Shopping centre"),
    _C.TOURIST_INFO: CategoryInfo("tourism", "information", "Tourist-Info", "Tourist office"),
}


def category_info(category: ShopCategory) -> CategoryInfo:
    """The OSM tag and labels of a category."""
    return CATEGORIES[category]
