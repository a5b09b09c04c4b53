-- The Path a REGISTER came through (RFC 3327: the proxies in front of the nodes, e.g. Kamailio),
-- so a node calling the user sends the INVITE back along it instead of straight to the device.

ALTER TABLE registrations ADD COLUMN path TEXT NOT NULL DEFAULT '';
