#!/bin/sh
# post-bootstrap.sh -- run once by Patroni on the node that initialised the
# cluster, with a superuser connection string as $1: the database the
# migrations go into (the official postgres image's POSTGRES_DB).
set -eu
psql "$1" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE meso"
