"""The local cloud: moto server (AWS), a fake X API v2 server, and an event-source emulator that runs the
real handlers as ``template.yaml`` wires them. Nothing under ``functions/`` imports this package."""
