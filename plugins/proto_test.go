package plugins

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/xcbench/xcbench/plugins/pluginv1"
)

// TestGeneratedCodeIsCurrent regenerates pluginv1 into a temp dir exactly as
// go:generate does and fails when the committed files differ.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	if _, err := exec.LookPath("protoc"); err != nil {
		t.Skip("protoc not installed (apt-get install -y protobuf-compiler); CI installs it")
	}
	tool := func(name string) string {
		out, err := exec.Command("go", "tool", "-n", name).Output()
		if err != nil {
			t.Fatalf("go tool -n %s: %v", name, err)
		}
		return strings.TrimSpace(string(out))
	}
	tmp := t.TempDir()
	cmd := exec.Command("protoc", "-I", "proto",
		"--plugin=protoc-gen-go="+tool("protoc-gen-go"),
		"--plugin=protoc-gen-go-grpc="+tool("protoc-gen-go-grpc"),
		"--go_out="+tmp, "--go_opt=module=github.com/xcbench/xcbench/plugins",
		"--go-grpc_out="+tmp, "--go-grpc_opt=module=github.com/xcbench/xcbench/plugins",
		"proto/xcbench/plugin/v1/plugin.proto")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("protoc: %v\n%s", err, out)
	}
	for _, f := range []string{"plugin.pb.go", "plugin_grpc.pb.go"} {
		want, err := os.ReadFile(filepath.Join(tmp, "pluginv1", f))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("pluginv1", f))
		if err != nil {
			t.Fatal(err)
		}
		// The header names the local protoc version; only the code matters.
		if !bytes.Equal(stripVersions(got), stripVersions(want)) {
			t.Errorf("plugins/pluginv1/%s is stale: run go generate ./plugins and commit", f)
		}
	}
}

// TestGeneratedPythonIsCurrent regenerates the Python message classes of
// the Python SDK with protoc --python_out (Debian's protoc 3.21, matching
// Debian's python3-protobuf) and fails when the committed file differs.
func TestGeneratedPythonIsCurrent(t *testing.T) {
	if _, err := exec.LookPath("protoc"); err != nil {
		t.Skip("protoc not installed (apt-get install -y protobuf-compiler); CI installs it")
	}
	tmp := t.TempDir()
	if out, err := exec.Command("protoc", "-I", "proto", "--python_out="+tmp, "proto/xcbench/plugin/v1/plugin.proto").CombinedOutput(); err != nil {
		t.Fatalf("protoc: %v\n%s", err, out)
	}
	const rel = "xcbench/plugin/v1/plugin_pb2.py"
	want, err := os.ReadFile(filepath.Join(tmp, rel))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("python", rel))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stripVersions(got), stripVersions(want)) {
		t.Errorf("plugins/python/%s is stale: run go generate ./plugins and commit", rel)
	}
}

func stripVersions(b []byte) []byte {
	var out [][]byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if bytes.HasPrefix(l, []byte("// \tprotoc ")) || bytes.HasPrefix(l, []byte("// - protoc ")) || bytes.HasPrefix(l, []byte("# Protobuf Python Version")) {
			continue
		}
		out = append(out, l)
	}
	return bytes.Join(out, []byte("\n"))
}

// TestNoBreakingChange compares the compiled protocol with the committed
// v1 snapshot (protoc --descriptor_set_out). Additions are allowed.
func TestNoBreakingChange(t *testing.T) {
	old := loadSnapshot(t)
	cur := protodesc.ToFileDescriptorProto(pluginv1.File_xcbench_plugin_v1_plugin_proto)
	if problems := breakingChanges(old, cur); len(problems) > 0 {
		t.Fatalf("breaking changes against plugins/proto/v1.snapshot.binpb (make a v2 package instead):\n%s",
			strings.Join(problems, "\n"))
	}
}

// TestBreakingCheckCatches mutates the snapshot in the ways the check must
// catch, so the guard itself cannot silently pass everything.
func TestBreakingCheckCatches(t *testing.T) {
	msg := func(f *descriptorpb.FileDescriptorProto, name string) *descriptorpb.DescriptorProto {
		for _, m := range f.MessageType {
			if m.GetName() == name {
				return m
			}
		}
		t.Fatalf("no message %s", name)
		return nil
	}
	tests := []struct {
		name   string
		mutate func(f *descriptorpb.FileDescriptorProto)
		want   string
	}{
		{"field removed", func(f *descriptorpb.FileDescriptorProto) {
			m := msg(f, "Matrix")
			m.Field = m.Field[1:]
		}, "Matrix.rows removed"},
		{"field renumbered", func(f *descriptorpb.FileDescriptorProto) {
			msg(f, "Batch").Field[0].Number = proto.Int32(9)
		}, "Batch.docs"},
		{"field type changed", func(f *descriptorpb.FileDescriptorProto) {
			msg(f, "PlanRequest").Field[0].Type = descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum()
		}, "PlanRequest.epoch"},
		{"message removed", func(f *descriptorpb.FileDescriptorProto) {
			f.MessageType = f.MessageType[1:]
		}, "message Matrix removed"},
		{"rpc removed", func(f *descriptorpb.FileDescriptorProto) {
			s := f.Service[0]
			s.Method = s.Method[1:]
		}, "PluginService.Describe removed"},
		{"stream became unary", func(f *descriptorpb.FileDescriptorProto) {
			for _, s := range f.Service {
				for _, m := range s.Method {
					if m.GetName() == "Batches" {
						m.ServerStreaming = proto.Bool(false)
					}
				}
			}
		}, "SamplerService.Batches"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cur := proto.Clone(loadSnapshot(t)).(*descriptorpb.FileDescriptorProto)
			tc.mutate(cur)
			problems := strings.Join(breakingChanges(loadSnapshot(t), cur), "\n")
			if !strings.Contains(problems, tc.want) {
				t.Fatalf("check reported %q, want mention of %q", problems, tc.want)
			}
		})
	}
	t.Run("additions allowed", func(t *testing.T) {
		cur := proto.Clone(loadSnapshot(t)).(*descriptorpb.FileDescriptorProto)
		m := msg(cur, "Batch")
		m.Field = append(m.Field, &descriptorpb.FieldDescriptorProto{
			Name: proto.String("weights"), Number: proto.Int32(20), Type: descriptorpb.FieldDescriptorProto_TYPE_FLOAT.Enum(),
			Label: descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum(), JsonName: proto.String("weights"),
		})
		if p := breakingChanges(loadSnapshot(t), cur); len(p) > 0 {
			t.Fatalf("an added field was reported: %v", p)
		}
	})
}

func loadSnapshot(t *testing.T) *descriptorpb.FileDescriptorProto {
	t.Helper()
	b, err := os.ReadFile("proto/v1.snapshot.binpb")
	if err != nil {
		t.Fatal(err)
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(b, &set); err != nil {
		t.Fatalf("proto/v1.snapshot.binpb: %v", err)
	}
	for _, f := range set.File {
		if f.GetName() == "xcbench/plugin/v1/plugin.proto" {
			return f
		}
	}
	t.Fatal("snapshot lacks xcbench/plugin/v1/plugin.proto")
	return nil
}

// breakingChanges lists wire- or API-breaking differences from old to cur.
func breakingChanges(old, cur *descriptorpb.FileDescriptorProto) []string {
	var out []string
	if old.GetPackage() != cur.GetPackage() {
		out = append(out, fmt.Sprintf("package %s became %s", old.GetPackage(), cur.GetPackage()))
	}
	curMsgs := map[string]*descriptorpb.DescriptorProto{}
	var index func(prefix string, ms []*descriptorpb.DescriptorProto)
	index = func(prefix string, ms []*descriptorpb.DescriptorProto) {
		for _, m := range ms {
			curMsgs[prefix+m.GetName()] = m
			index(prefix+m.GetName()+".", m.NestedType)
		}
	}
	index("", cur.MessageType)
	var walk func(prefix string, ms []*descriptorpb.DescriptorProto)
	walk = func(prefix string, ms []*descriptorpb.DescriptorProto) {
		for _, om := range ms {
			name := prefix + om.GetName()
			cm, ok := curMsgs[name]
			if !ok {
				out = append(out, "message "+name+" removed")
				continue
			}
			fields := map[string]*descriptorpb.FieldDescriptorProto{}
			for _, f := range cm.Field {
				fields[f.GetName()] = f
			}
			for _, of := range om.Field {
				cf, ok := fields[of.GetName()]
				switch {
				case !ok:
					out = append(out, fmt.Sprintf("field %s.%s removed", name, of.GetName()))
				case cf.GetNumber() != of.GetNumber():
					out = append(out, fmt.Sprintf("field %s.%s renumbered %d -> %d", name, of.GetName(), of.GetNumber(), cf.GetNumber()))
				case cf.GetType() != of.GetType() || cf.GetTypeName() != of.GetTypeName() || cf.GetLabel() != of.GetLabel():
					out = append(out, fmt.Sprintf("field %s.%s changed type %s%s %s -> %s%s %s", name, of.GetName(),
						of.GetLabel(), of.GetType(), of.GetTypeName(), cf.GetLabel(), cf.GetType(), cf.GetTypeName()))
				}
			}
			walk(name+".", om.NestedType)
		}
	}
	walk("", old.MessageType)
	for i := range out { // "field X.y removed" reads better as "X.y removed" in the catch test
		out[i] = strings.Replace(out[i], "field ", "", 1)
	}
	curEnums := map[string]map[string]int32{}
	for _, e := range cur.EnumType {
		vals := map[string]int32{}
		for _, v := range e.Value {
			vals[v.GetName()] = v.GetNumber()
		}
		curEnums[e.GetName()] = vals
	}
	for _, e := range old.EnumType {
		vals, ok := curEnums[e.GetName()]
		if !ok {
			out = append(out, "enum "+e.GetName()+" removed")
			continue
		}
		for _, v := range e.Value {
			if n, ok := vals[v.GetName()]; !ok || n != v.GetNumber() {
				out = append(out, fmt.Sprintf("enum value %s.%s removed or renumbered", e.GetName(), v.GetName()))
			}
		}
	}
	curSvcs := map[string]map[string]*descriptorpb.MethodDescriptorProto{}
	for _, s := range cur.Service {
		ms := map[string]*descriptorpb.MethodDescriptorProto{}
		for _, m := range s.Method {
			ms[m.GetName()] = m
		}
		curSvcs[s.GetName()] = ms
	}
	for _, s := range old.Service {
		ms, ok := curSvcs[s.GetName()]
		if !ok {
			out = append(out, "service "+s.GetName()+" removed")
			continue
		}
		for _, om := range s.Method {
			cm, ok := ms[om.GetName()]
			switch {
			case !ok:
				out = append(out, fmt.Sprintf("rpc %s.%s removed", s.GetName(), om.GetName()))
			case cm.GetInputType() != om.GetInputType() || cm.GetOutputType() != om.GetOutputType() ||
				cm.GetClientStreaming() != om.GetClientStreaming() || cm.GetServerStreaming() != om.GetServerStreaming():
				out = append(out, fmt.Sprintf("rpc %s.%s changed signature", s.GetName(), om.GetName()))
			}
		}
	}
	return out
}

// contractPackages must never depend on the wire, directly or through
// anything they import: core, the contract (plugins/sdk), the registry and
// the components are built against the interfaces only.
var contractPackages = []string{"../core/...", "./sdk", "./registry", "./plugintest/toy",
	"../samplers/...", "../encoders/...", "../classifiers/...", "../reports/..."}

// wireDeps lists the transitive dependencies of pkgs (go list -deps) that
// belong to the wire: grpc, protobuf, go-plugin, the generated code and
// the adapters.
func wireDeps(t *testing.T, pkgs ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list", "-deps", "-f", "{{.ImportPath}}"}, pkgs...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %v: %v\n%s", pkgs, err, out)
	}
	const mod = "github.com/xcbench/xcbench/"
	var bad []string
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "google.golang.org/grpc") || strings.HasPrefix(p, "google.golang.org/protobuf") ||
			strings.HasPrefix(p, "github.com/hashicorp/go-plugin") || strings.HasPrefix(p, "github.com/golang/protobuf") ||
			p == mod+"plugins/pluginv1" || p == mod+"plugins/wire" || p == mod+"plugins/host" {
			bad = append(bad, p)
		}
	}
	return bad
}

// TestContractDoesNotPullTheWire checks the transitive closure, not just
// direct imports: one innocent-looking import of a package that uses
// plugins/wire would drag grpc and go-plugin into core again.
func TestContractDoesNotPullTheWire(t *testing.T) {
	if bad := wireDeps(t, contractPackages...); len(bad) > 0 {
		t.Fatalf("%v depend on the wire: %s; import plugins/sdk only", contractPackages, strings.Join(bad, ", "))
	}
	// The check itself must see the wire where it is.
	if bad := wireDeps(t, "./wire"); !slices.Contains(bad, "google.golang.org/grpc") || !slices.Contains(bad, "github.com/hashicorp/go-plugin") {
		t.Fatalf("wireDeps(./wire) = %v: the check cannot see grpc or go-plugin", bad)
	}
}
