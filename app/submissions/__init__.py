"""Views over what has been asked and sent: requests with their documents, per agency."""
