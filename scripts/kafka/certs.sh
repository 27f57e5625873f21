#!/usr/bin/env bash
# Throwaway TLS material for the local test broker (scripts/kafka/kafka.sh calls this at start when a
# file is missing or a certificate expires within a day). Nothing here is secret beyond the test machine:
# a new CA, new keys and new random passwords on each run, written to the broker's gitignored data folder.
#
#   bash scripts/kafka/certs.sh <dir> [host]     # host: the name in the broker's certificate (localhost)
#
# <dir> afterwards holds:
#   ca.pem            the CA certificate: what a client puts in "CA", and the broker's truststore (PEM) for
#                     client certificates on the mutual-TLS listener
#   broker.p12        the broker's key and certificate chain (PKCS12), password in store.pass
#   broker.pem        the broker's certificate: CN and SAN DNS:<host> only, no IP address, so that a client
#                     that connects to 127.0.0.1 meets a real host name mismatch
#   client.pem        a client certificate signed by the CA (CN=smoke-client)
#   client.key.pem    its private key, PKCS#8 encrypted with AES-256, passphrase in client.key.pass
#   store.pass, client.key.pass
# Java's keytool makes the CA, the broker's keystore and signs both certificates; openssl makes the
# client's PEM key. Elliptic-curve keys (P-256), and a JVM without the optimising compiler: each keytool
# call is a JVM start, and this keeps the whole run to a few seconds.
set -euo pipefail

DIR="${1:?usage: certs.sh <dir> [host]}"
HOST="${2:-localhost}"
DAYS=825
mkdir -p "$(dirname "$DIR")"
DIR="$(cd "$(dirname "$DIR")" && pwd)/$(basename "$DIR")"

if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/keytool" ]]; then KEYTOOL="$JAVA_HOME/bin/keytool"; else KEYTOOL=keytool; fi
command -v "$KEYTOOL" >/dev/null || { echo "certs.sh: keytool not found (set JAVA_HOME or put it on PATH)" >&2; exit 1; }
command -v openssl >/dev/null || { echo "certs.sh: openssl not found" >&2; exit 1; }

tmp="$DIR.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
chmod 700 "$tmp"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# Random passwords, handed to the tools in files (never on a command line that `ps` shows).
random() { head -c 24 /dev/urandom | base64 | tr -d '+/=\n'; }
(umask 077 && random >store.pass && random >ca.pass && random >client.key.pass)

kt() { "$KEYTOOL" -J-XX:TieredStopAtLevel=1 -J-XX:+UseSerialGC -noprompt "$@" 2>>tools.log || { cat tools.log >&2; exit 1; }; }
ca=(-alias ca -keystore ca.p12 -storetype PKCS12 -storepass:file ca.pass -keypass:file ca.pass)
broker=(-alias broker -keystore broker.p12 -storetype PKCS12 -storepass:file store.pass -keypass:file store.pass)
key=(-keyalg EC -groupname secp256r1 -validity "$DAYS")

kt -genkeypair "${ca[@]}" "${key[@]}" -dname "CN=smoke-stream test CA" -ext bc:c -ext ku:c=keyCertSign,cRLSign
kt -exportcert "${ca[@]}" -rfc -file ca.pem

kt -genkeypair "${broker[@]}" "${key[@]}" -dname "CN=$HOST"
kt -certreq "${broker[@]}" -file broker.csr
kt -gencert "${ca[@]}" -infile broker.csr -outfile broker.pem -rfc -validity "$DAYS" \
  -ext "SAN=dns:$HOST" -ext ku:c=digitalSignature -ext eku=serverAuth
# the certificate reply as a chain (broker, CA): the keystore then holds what the broker presents
cat broker.pem ca.pem >broker-chain.pem
kt -importcert "${broker[@]}" -file broker-chain.pem

(umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out client.key 2>>tools.log)
openssl req -new -key client.key -subj "/CN=smoke-client" -out client.csr 2>>tools.log
kt -gencert "${ca[@]}" -infile client.csr -outfile client.pem -rfc -validity "$DAYS" -ext ku:c=digitalSignature -ext eku=clientAuth
openssl pkcs8 -topk8 -v2 aes-256-cbc -in client.key -passout file:client.key.pass -out client.key.pem 2>>tools.log

rm -f ca.p12 ca.pass client.key ./*.csr broker-chain.pem tools.log
chmod 600 broker.p12 client.key.pem
cd /
trap - EXIT
rm -rf "$DIR"
mv "$tmp" "$DIR"
