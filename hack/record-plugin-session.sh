#!/usr/bin/env bash
# Records docs/plugin-session.txt: a kubectl hikube quick start as alice,
# run for real against a fresh local platform (make run's), so that the
# transcript shows what the plugin prints today. Usage:
#   make plugin-session            (or hack/record-plugin-session.sh [OUT])
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/_output/bin
OUT=${1:-$ROOT/docs/plugin-session.txt}
H=$(mktemp -d /tmp/hikube-session.XXXXXX)
LOG=$H/platform.log

HIKUBE_HOME=$H "$BIN/hikube-local" >"$LOG" 2>&1 &
PLATFORM=$!
cleanup() {
	kill -INT "$PLATFORM" 2>/dev/null || true
	wait "$PLATFORM" 2>/dev/null || true
	rm -rf "$H"
}
trap cleanup EXIT

for _ in $(seq 1 600); do
	grep -q "hikube is ready" "$LOG" && break
	kill -0 "$PLATFORM" 2>/dev/null || { cat "$LOG" >&2; echo "the platform exited" >&2; exit 1; }
	sleep 0.5
done
grep -q "hikube is ready" "$LOG" || { tail -20 "$LOG" >&2; echo "the platform did not get ready in 5 minutes" >&2; exit 1; }

# A copy of alice's kubeconfig, which `kubeconfig --merge` changes.
cp "$H/alice.kubeconfig" "$H/session.kubeconfig"
export KUBECONFIG=$H/session.kubeconfig
export PATH=$BIN:$PATH NO_COLOR=1 H

# One command a line; `# ` lines are comments of the transcript.
SESSION=$(cat <<'COMMANDS'
kubectl config get-contexts
kubectl hikube versions
kubectl hikube instance-types --family u1
kubectl hikube gpu list
kubectl hikube create cluster web --version v1.36 --node-group name=web,instance-type=s1.large,min=2,max=10,roles=ingress-nginx --addon cert-manager --addon ingress-nginx --ingress-host app.example.ch --dry-run=client -o yaml
kubectl hikube create cluster web --version v1.36 --node-group name=web,instance-type=s1.large,min=2,max=10,roles=ingress-nginx --addon cert-manager --addon ingress-nginx --ingress-host app.example.ch --wait
# the server's catalog refuses GPUs on the shared s1 family: one line, exit code 7 (invalid), nothing created
kubectl hikube create cluster ml --node-group name=ml,instance-type=s1.xlarge,min=1,max=3,gpus=nvidia.com/L40S; echo "exit code $?"
kubectl hikube create cluster ml --node-group name=ml,instance-type=u1.2xlarge,min=1,max=3,gpus=nvidia.com/L40S --addon gpu-operator --wait
kubectl hikube get clusters -o wide
kubectl hikube status web
kubectl hikube scale web --node-group web --min 3 --max 20 --wait
kubectl hikube gpu attach ml --node-group ml --model nvidia.com/L40S --count 2 --wait
kubectl hikube nodegroup list ml
kubectl hikube kubeconfig web --merge --switch
kubectl get nodes -L topology.kubernetes.io/zone
kubectl config use-context alice@hikube-local
kubectl hikube connect ml -- kubectl get nodes
# without --yes, upgrade shows the plan and changes nothing
kubectl hikube upgrade web
kubectl hikube upgrade web --yes --wait
# bob administers tenant-b only
kubectl hikube --kubeconfig $H/bob.kubeconfig -n tenant-a get clusters; echo "exit code $?"
# no terminal to confirm on, no --yes: refused
kubectl hikube delete cluster ml < /dev/null; echo "exit code $?"
kubectl hikube delete cluster ml --yes --wait
kubectl config get-contexts
COMMANDS
)

{
	echo "# kubectl hikube quick start, as alice (admin of tenant-a) on the local platform (make run; H is its HIKUBE_HOME)"
	echo "# Recorded by hack/record-plugin-session.sh on $(date -u +%Y-%m-%d) against a fresh platform; NO_COLOR=1 so that the"
	echo "# recording holds no escape sequences (on a terminal, phases and states are coloured)."
	while IFS= read -r line; do
		if [[ $line == "# "* ]]; then
			echo
			echo "$line"
			continue
		fi
		echo
		echo "\$ $line"
		# A command that fails is part of the session; the transcript shows it.
		bash -c "$line" 2>&1 | sed "s|$H|\$H|g" || true
	done <<<"$SESSION"
} >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "recorded $OUT"
