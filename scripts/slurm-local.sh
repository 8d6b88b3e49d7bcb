#!/usr/bin/env bash
# A single-node Slurm on this machine, for the cluster tests and for trying
# `xcbench run --executor slurm` without a cluster.
#
#   scripts/slurm-local.sh start    # install (once), configure, start munged, slurmctld, slurmd
#   scripts/slurm-local.sh stop     # stop the three daemons
#   scripts/slurm-local.sh status   # sinfo, or why not
#
# Debian's packages (slurmctld, slurmd, slurm-client and munge: the parts of
# slurm-wlm a single node needs, without its optional plugins), configured
# for a machine without systemd or cgroups (proctrack/linuxproc, task/none)
# and started as plain background daemons. Needs root (or sudo). Idempotent:
# `start` on a running Slurm only checks it answers.
#
# The node advertises at least 4 CPUs (config_overrides) whatever the
# machine has, so a 3-cell test array runs at once on a 2-core box.
set -euo pipefail

sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"

conf_dir=/etc/slurm
state_dir=/var/spool/slurmctld
spool_dir=/var/spool/slurmd
log_dir=/var/log/slurm
run_dir=/run/slurm-local

log() { echo "slurm-local: $*" >&2; }

install() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null &&
     command -v sbatch >/dev/null && command -v munged >/dev/null; then
    return
  fi
  log "installing slurmctld slurmd slurm-client munge (apt-get)"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=600 slurmctld slurmd slurm-client munge >/dev/null
}

configure() {
  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  [ "$cpus" -lt 4 ] && cpus=4
  mem=$(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo)
  $sudo_cmd mkdir -p "$conf_dir" "$state_dir" "$spool_dir" "$log_dir" "$run_dir"
  $sudo_cmd tee "$conf_dir/slurm.conf" >/dev/null <<EOF
# Written by xcbench scripts/slurm-local.sh: one node, no systemd, no cgroups.
ClusterName=xcbench-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
StateSaveLocation=$state_dir
SlurmdSpoolDir=$spool_dir
SlurmctldPidFile=$run_dir/slurmctld.pid
SlurmdPidFile=$run_dir/slurmd.pid
SlurmctldLogFile=$log_dir/slurmctld.log
SlurmdLogFile=$log_dir/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=30
MinJobAge=300
MaxArraySize=10001
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  # Without cgroups Slurm still reads these files when they exist.
  $sudo_cmd rm -f "$conf_dir/cgroup.conf"
}

running() { [ -f "$run_dir/$1.pid" ] && $sudo_cmd kill -0 "$(cat "$run_dir/$1.pid")" 2>/dev/null; }

start_munge() {
  if munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
    return
  fi
  $sudo_cmd mkdir -p /run/munge /var/log/munge /var/lib/munge
  $sudo_cmd chown munge:munge /run/munge /var/log/munge /var/lib/munge
  $sudo_cmd chmod 0755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    $sudo_cmd mungekey --create --keyfile /etc/munge/munge.key
    $sudo_cmd chown munge:munge /etc/munge/munge.key
    $sudo_cmd chmod 0400 /etc/munge/munge.key
  fi
  $sudo_cmd runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
  for _ in $(seq 50); do
    munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && return
    sleep 0.1
  done
  log "munged did not come up"; return 1
}

start() {
  install
  start_munge
  if running slurmctld && running slurmd && sinfo -h >/dev/null 2>&1; then
    log "already running"; wait_idle; return
  fi
  configure
  running slurmctld || $sudo_cmd /usr/sbin/slurmctld -c -i
  running slurmd || $sudo_cmd /usr/sbin/slurmd
  wait_idle
}

# wait_idle waits until the node accepts jobs (state idle or mixed).
wait_idle() {
  local host state
  host=$(hostname -s)
  for _ in $(seq 300); do
    state=$(sinfo -h -n "$host" -o %t 2>/dev/null || true)
    case "$state" in
      idle*|mix*|alloc*) log "up: node $host $state"; return ;;
      drain*|down*) $sudo_cmd scontrol update NodeName="$host" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    sleep 0.2
  done
  log "node $host never became idle (state: ${state:-none}); see $log_dir/slurmctld.log and $log_dir/slurmd.log"
  return 1
}

stop() {
  for d in slurmd slurmctld; do
    if running "$d"; then
      $sudo_cmd kill "$(cat "$run_dir/$d.pid")"
    fi
  done
  for d in slurmd slurmctld; do
    for _ in $(seq 100); do running "$d" || break; sleep 0.1; done
  done
  if [ -f /run/munge/munged.pid ]; then
    $sudo_cmd kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true
  fi
  log "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) sinfo ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
