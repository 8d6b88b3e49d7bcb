#!/bin/sh
# Describes itself like a plugin but never performs the handshake.
if [ "$1" = describe ]; then
  echo '[{"kind":"sampler","name":"fake","info":{"name":"fake","kind":"sampler","version":"0","api_versions":[1]}}]'
  exit 0
fi
echo "this is not a handshake line"
sleep 1
