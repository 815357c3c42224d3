"""Running the agencies' automated checks and recording their results on declarations."""
