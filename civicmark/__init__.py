"""CivicMark: a city's demonstration-community campaign, from the first plan to the stamped certificate."""
