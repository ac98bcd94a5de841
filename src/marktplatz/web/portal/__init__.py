"""The retailer portal: a shop's profile, story, hours, pictures and touchpoints."""
