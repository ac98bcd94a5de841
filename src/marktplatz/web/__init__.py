"""HTTP entry points: JSON API, edge routes, visitor pages, retailer portal, city console."""
