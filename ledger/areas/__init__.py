"""Administrative areas: district → street → community → grid, and caller scopes."""
