"""Open311 GeoReport v2: our categories as services, our requests as service requests.

The mapping (docs/oversight.md has the full table):
- service_code = category code; one optional attribute, `flat`;
- status: closed, declined and cancelled requests are «closed», everything else «open»;
  status_notes names our state; agency_responsible is the organisation handling the request;
  expected_datetime is the deadline;
- service_request_id is our request id; a token is our request number («2026-000123»), so
  GET tokens/{number} finds the id of a request whose number a resident was told.

Reading is public and anonymous: no names, phones, flats, and descriptions only for holders of
an Open311 key. Filing needs an Open311 key (ApiToken kind «open311»).

Modules: `errors` (the specification's errors), `formats` (JSON and XML bodies, the format in
the URL), `mapping` (our rows as Open311 items), `query` (the filters of GET requests),
`addresses` (free-text addresses and coordinates to buildings), `reading` and `filing` (the use
cases); the routes are `server.integrations.open311_routes`.
"""
