"""The inbox as staff see it: folders, thread lists, search and actions on mail."""
