"""Issue reports (事件上报), departments, categories, routing rules and dashboard statistics."""
