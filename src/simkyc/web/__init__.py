"""Web pages for agents (kiosk) and citizens (portal), served by the API's app."""
