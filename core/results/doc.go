// Package results is the on-disk store of a grid run, built to survive
// faults. A run folder holds manifest.json (grid text, expanded cells, git
// commit, plugin identities, host) and cells/<id>/ with epochs.jsonl (one
// Record per line, each appended with a single write and fsync, so a crash
// leaves at most a torn last line that readers drop and Repair truncates),
// status.json (replaced by temp file + rename, never half-written) and the
// encoder checkpoint of the last finished epoch (ckpt/, swapped in with a
// rename). A cell is re-run from its checkpoint unless its status is done.
package results
