package executor

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestK8sManifest checks the Indexed Job's structure as the Job API
// (batch/v1) defines it, and runs the container's command with sh and a
// fake xcbench to check that completion index k runs the k-th submitted
// cell.
func TestK8sManifest(t *testing.T) {
	tk := testTask(t)
	tk.Env = append(tk.Env, "XCBENCH_PLUGIN_PATH="+filepath.Join(tk.Dir, "plugins.d")+":/opt/p")
	o := K8sOptions{Image: "registry.example/xcbench:1", PVC: "xc-runs", Namespace: "research", Parallelism: 2,
		Mem: "16G", GPUsPerCell: 1, CPUsPerCell: 2}
	b, err := K8sManifest(tk, o, []int{1, 3, 4}, map[int]int{3: 1})
	if err != nil {
		t.Fatal(err)
	}
	var job map[string]any
	if err := yaml.Unmarshal(b, &job); err != nil {
		t.Fatalf("generated YAML does not parse: %v\n%s", err, b)
	}
	get := func(path string) any {
		var cur any = job
		for _, k := range strings.Split(path, ".") {
			switch c := cur.(type) {
			case map[string]any:
				cur = c[k]
			case []any:
				if len(c) == 0 {
					return nil
				}
				cur = c[0].(map[string]any)[k]
			default:
				return nil
			}
		}
		return cur
	}
	for path, want := range map[string]any{
		"apiVersion":                       "batch/v1",
		"kind":                             "Job",
		"metadata.namespace":               "research",
		"spec.completionMode":              "Indexed",
		"spec.completions":                 3,
		"spec.parallelism":                 2,
		"spec.backoffLimitPerIndex":        DefaultMaxAttempts - 1,
		"spec.template.spec.restartPolicy": "Never",
		"spec.template.spec.terminationGracePeriodSeconds":           120,
		"spec.template.spec.volumes.persistentVolumeClaim.claimName": "xc-runs",
		"spec.template.spec.containers.image":                        "registry.example/xcbench:1",
		"spec.template.spec.containers.workingDir":                   "/xcbench",
		"spec.template.spec.containers.volumeMounts.mountPath":       "/xcbench",
		"spec.template.spec.containers.resources.limits.memory":      "16Gi",
		"spec.podFailurePolicy.rules.action":                         "Ignore",
	} {
		if got := get(path); !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", path, got, want)
		}
	}
	limits := get("spec.template.spec.containers.resources.limits").(map[string]any)
	if limits["nvidia.com/gpu"] != "1" {
		t.Errorf("gpu limit %v", limits)
	}
	rules := get("spec.podFailurePolicy.rules").([]any)
	if len(rules) != 2 || !reflect.DeepEqual(rules[1].(map[string]any)["onExitCodes"].(map[string]any)["values"], []any{ExitInterrupted}) {
		t.Errorf("pod failure policy must ignore disruptions and exit %d: %v", ExitInterrupted, rules)
	}
	name := get("metadata.name").(string)
	if len(name) > 63 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		t.Errorf("metadata.name %q is not a DNS label", name)
	}
	env := get("spec.template.spec.containers.env").([]any)
	var plugins string
	for _, e := range env {
		if m := e.(map[string]any); m["name"] == "XCBENCH_PLUGIN_PATH" {
			plugins = m["value"].(string)
		}
	}
	if plugins != "/xcbench/plugins.d:/opt/p" {
		t.Errorf("XCBENCH_PLUGIN_PATH in the pod = %q, want the claim's path", plugins)
	}

	// The command, as the pod runs it, for completion index 1.
	cmd := get("spec.template.spec.containers.command").([]any)
	if len(cmd) != 3 || cmd[0] != "/bin/sh" || cmd[1] != "-c" {
		t.Fatalf("command %v", cmd)
	}
	bin := t.TempDir()
	fakeBin(t, bin, "xcbench", `printf '%s\n' "$@"`)
	run := exec.Command("sh", "-c", cmd[2].(string))
	run.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "JOB_COMPLETION_INDEX=1")
	out, err := run.Output()
	if err != nil {
		t.Fatalf("pod command: %v", err)
	}
	want := []string{"run", "/xcbench/my grid.yaml", "--cell", "3", "--cell-id", "ddd444", "--max-attempts", "4",
		"--out", "/xcbench/runs/g", "--epochs", "2", "--set", "sampler.params.k=it's"}
	if got := strings.Split(strings.TrimSpace(string(out)), "\n"); !reflect.DeepEqual(got, want) {
		t.Errorf("completion index 1 runs %q, want %q", got, want)
	}
}

func TestK8sManifestErrors(t *testing.T) {
	tk := testTask(t)
	ok := K8sOptions{Image: "i", PVC: "p"}
	for name, c := range map[string]struct {
		o    K8sOptions
		edit func(*Task)
		want string
	}{
		"no image":        {K8sOptions{PVC: "p"}, nil, "--k8s-image"},
		"no pvc":          {K8sOptions{Image: "i"}, nil, "--k8s-pvc"},
		"grid outside":    {ok, func(t *Task) { t.Grid = "/elsewhere/g.yaml" }, "outside the working directory"},
		"run dir outside": {ok, func(t *Task) { t.Run = filepath.Dir(t.Dir) }, "outside the working directory"},
	} {
		tk := tk
		if c.edit != nil {
			c.edit(&tk)
		}
		if _, err := K8sManifest(tk, c.o, []int{0}, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %s", name, err, c.want)
		}
	}
}

func TestWriteK8s(t *testing.T) {
	s, cells, release := fixture(t)
	defer release()
	tk := testTask(t)
	tk.Run, tk.Cells, tk.Dir = s.Dir, cells, filepath.Dir(s.Dir)
	tk.Grid = filepath.Join(tk.Dir, "g.yaml")
	sub, err := WriteK8s(tk, K8sOptions{Image: "i", PVC: "p"}, Survey(s, cells, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if sub.Executor != "k8s" || !reflect.DeepEqual(sub.Cells, []int{0, 2, 4}) || filepath.Base(sub.Script) != "k8s-1.yaml" {
		t.Fatalf("submission %+v", sub)
	}
	if _, err := os.Stat(sub.Script); err != nil {
		t.Fatal(err)
	}
}

func TestK8sQuantity(t *testing.T) {
	for in, want := range map[string]string{"16G": "16Gi", "500M": "500Mi", "2048": "2048Mi", "1Ti": "1Ti", "4t": "4Ti"} {
		if got := k8sQuantity(in); got != want {
			t.Errorf("k8sQuantity(%s) = %s, want %s", in, got, want)
		}
	}
}
