"""The officers' web pages, served by the service itself (server-rendered Jinja2, no front-end build, nothing
fetched from the internet). A page is a form over the JSON API (``apiclient``): the same roles, purposes,
validation, error codes and audit rows. See docs/web.md."""
