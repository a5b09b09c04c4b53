#!/usr/bin/env bash
# Installs the cluster test peers (idempotent).
#
#   Debian packages: postgresql (the server programs under /usr/lib/postgresql/<version>/bin;
#                    the tests run their own throwaway cluster on a free loopback port, as
#                    the `postgres` user the package creates when they run as root),
#                    util-linux (runuser), kamailio (kamailio + kamcmd: the SIP load balancer
#                    the tests put in front of several nodes, with deploy/kamailio/kamailio.cfg)
#
# Needs root (or sudo) for apt-get when a package is missing. Network: Debian mirrors.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# shellcheck source=apt-install.sh
source "$here/apt-install.sh"
apt_install runuser:util-linux postgresql kamailio:kamailio
ls -d /usr/lib/postgresql/*/bin/initdb
kamailio -v | head -1
