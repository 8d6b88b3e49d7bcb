package executor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// K8sOptions describe a Kubernetes Indexed Job for a grid.
type K8sOptions struct {
	// Image is a container image with xcbench on its PATH (required).
	Image string
	// PVC is a ReadWriteMany PersistentVolumeClaim holding the working
	// directory (grid files, data, run folder) (required); it is mounted
	// at Mount (default /xcbench) and the pods work there.
	PVC, Mount string
	Namespace  string
	// Parallelism caps pods running at once (0 = all cells).
	Parallelism int
	Mem         string
	GPUsPerCell int
	CPUsPerCell int
	// GraceSeconds is the pod's termination grace period: how long
	// xcbench has after SIGTERM to stop at its checkpoint (120 if 0).
	GraceSeconds int
}

// K8sManifest is the Indexed Job running the cells at indices: completion
// index k runs cell indices[k]. Each index is retried on its own
// (backoffLimitPerIndex, Kubernetes 1.29+): a real failure (exit 1)
// counts, while a pod stopped by a disruption (preemption, node drain) or
// by SIGTERM at a checkpoint (exit 130) is recreated without counting and
// resumes; the task's --max-attempts still bounds the cell.
func K8sManifest(t Task, o K8sOptions, indices []int, attempts map[int]int) ([]byte, error) {
	if o.Image == "" {
		return nil, errors.New("executor: --k8s-image is required (an image with xcbench on its PATH)")
	}
	if o.PVC == "" {
		return nil, errors.New("executor: --k8s-pvc is required (a ReadWriteMany claim holding the working directory and the run folder)")
	}
	if len(indices) == 0 {
		return nil, errors.New("executor: no cells to submit")
	}
	mount := o.Mount
	if mount == "" {
		mount = "/xcbench"
	}
	inPod := func(what, p string) (string, error) {
		rel, err := filepath.Rel(t.Dir, p)
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			return "", fmt.Errorf("executor: %s %s is outside the working directory %s that the claim holds", what, p, t.Dir)
		}
		return filepath.Join(mount, rel), nil
	}
	gridPath, err := inPod("grid file", t.Grid)
	if err != nil {
		return nil, err
	}
	runPath, err := inPod("run folder", t.Run)
	if err != nil {
		return nil, err
	}
	grace := o.GraceSeconds
	if grace <= 0 {
		grace = 120
	}
	var plan []string
	for _, i := range indices {
		plan = append(plan, fmt.Sprintf("%d:%s:%d", i, t.Cells[i].ID, attempts[i]+t.maxAttempts()))
	}
	args := []string{"--out", ShellQuote(runPath)}
	for _, a := range t.Args {
		args = append(args, ShellQuote(a))
	}
	script := fmt.Sprintf(`set -eu
# completion index -> cell index:cell id:max attempts
set -- %s
shift "$JOB_COMPLETION_INDEX"
IFS=: read -r i id max <<EOF
$1
EOF
exec xcbench run %s --cell "$i" --cell-id "$id" --max-attempts "$max" %s
`, strings.Join(plan, " "), ShellQuote(gridPath), strings.Join(args, " "))

	var env []map[string]any
	for _, kv := range t.Env {
		k, v, _ := strings.Cut(kv, "=")
		if !validEnvName(k) {
			continue
		}
		// Paths into the working directory point into the claim in the pod.
		var parts []string
		for _, p := range strings.Split(v, ":") {
			if filepath.IsAbs(p) {
				if q, err := inPod("", p); err == nil {
					p = q
				}
			}
			parts = append(parts, p)
		}
		env = append(env, map[string]any{"name": k, "value": strings.Join(parts, ":")})
	}
	limits := map[string]any{}
	requests := map[string]any{}
	if o.Mem != "" {
		limits["memory"], requests["memory"] = k8sQuantity(o.Mem), k8sQuantity(o.Mem)
	}
	if o.CPUsPerCell > 0 {
		requests["cpu"] = strconv.Itoa(o.CPUsPerCell)
	}
	if o.GPUsPerCell > 0 {
		limits["nvidia.com/gpu"] = strconv.Itoa(o.GPUsPerCell)
	}
	container := map[string]any{
		"name": "cell", "image": o.Image, "workingDir": mount,
		"command":      []string{"/bin/sh", "-c", script},
		"volumeMounts": []map[string]any{{"name": "run", "mountPath": mount}},
	}
	if len(env) > 0 {
		container["env"] = env
	}
	if len(limits)+len(requests) > 0 {
		res := map[string]any{}
		if len(limits) > 0 {
			res["limits"] = limits
		}
		if len(requests) > 0 {
			res["requests"] = requests
		}
		container["resources"] = res
	}
	par := o.Parallelism
	if par <= 0 || par > len(indices) {
		par = len(indices)
	}
	meta := map[string]any{
		"name":   k8sName("xcbench-" + t.Name + "-" + time.Now().UTC().Format("20060102-150405")),
		"labels": map[string]any{"app.kubernetes.io/name": "xcbench", "xcbench/grid": k8sName(t.Name)},
	}
	if o.Namespace != "" {
		meta["namespace"] = o.Namespace
	}
	job := map[string]any{
		"apiVersion": "batch/v1",
		"kind":       "Job",
		"metadata":   meta,
		"spec": map[string]any{
			"completionMode":       "Indexed",
			"completions":          len(indices),
			"parallelism":          par,
			"backoffLimitPerIndex": t.maxAttempts() - 1,
			"podFailurePolicy": map[string]any{"rules": []map[string]any{
				{"action": "Ignore", "onPodConditions": []map[string]any{{"type": "DisruptionTarget"}}},
				{"action": "Ignore", "onExitCodes": map[string]any{"containerName": "cell", "operator": "In", "values": []int{ExitInterrupted}}},
			}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]any{"app.kubernetes.io/name": "xcbench"}},
				"spec": map[string]any{
					"restartPolicy":                 "Never",
					"terminationGracePeriodSeconds": grace,
					"containers":                    []any{container},
					"volumes": []map[string]any{{"name": "run",
						"persistentVolumeClaim": map[string]any{"claimName": o.PVC}}},
				},
			},
		},
	}
	b, err := yaml.Marshal(job)
	if err != nil {
		return nil, fmt.Errorf("executor: %w", err)
	}
	return append([]byte("# Generated by xcbench run --executor k8s: apply with kubectl apply -f <this file>\n"), b...), nil
}

// WriteK8s writes the manifest for the cells that need a run into
// RUN/executor/k8s-<n>.yaml and logs the submission (nothing is applied:
// `kubectl apply -f` it).
func WriteK8s(t Task, o K8sOptions, states []CellState) (Submission, error) {
	idx := ToSubmit(states)
	if len(idx) == 0 {
		return Submission{}, ErrNothingToSubmit
	}
	attempts := map[int]int{}
	for _, s := range states {
		attempts[s.Index] = s.Attempts
	}
	b, err := K8sManifest(t, o, idx, attempts)
	if err != nil {
		return Submission{}, err
	}
	path, err := nextScript(t.Run, "k8s", "yaml")
	if err != nil {
		return Submission{}, err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return Submission{}, fmt.Errorf("executor: %w", err)
	}
	sub := Submission{Executor: "k8s", Script: path, Command: t.Command, Cells: idx, IDs: cellIDs(t, idx), Time: time.Now().UTC()}
	return sub, appendSubmission(t.Run, sub)
}

var k8sBad = regexp.MustCompile(`[^a-z0-9-]+`)

// k8sName makes s a DNS label (lower case, [a-z0-9-], at most 63).
func k8sName(s string) string {
	s = strings.Trim(k8sBad.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "-")
	}
	return s
}

// k8sQuantity turns Slurm memory ("16G", "500M") into Kubernetes units.
func k8sQuantity(m string) string {
	if n := len(m); n > 0 {
		switch m[n-1] {
		case 'K', 'k':
			return m[:n-1] + "Ki"
		case 'M', 'm':
			return m[:n-1] + "Mi"
		case 'G', 'g':
			return m[:n-1] + "Gi"
		case 'T', 't':
			return m[:n-1] + "Ti"
		}
		if _, err := strconv.Atoi(m); err == nil {
			return m + "Mi" // Slurm's default unit is megabytes
		}
	}
	return m
}
