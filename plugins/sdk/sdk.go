package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"time"
)

// APIVersion is the plugin protocol version this SDK speaks (go-plugin's
// VersionedPlugins key and the api_versions field of Describe).
const APIVersion = 1

// Kind names a component family.
type Kind string

const (
	KindEncoder    Kind = "encoder"
	KindSampler    Kind = "sampler"
	KindClassifier Kind = "classifier"
)

// Split names a set of items an encoder or classifier works on.
type Split string

const (
	SplitTrain  Split = "train"  // training documents
	SplitTest   Split = "test"   // test documents
	SplitLabels Split = "labels" // label texts / label features
)

// Info is what Describe returns.
type Info struct {
	Name         string   `json:"name"`
	Kind         Kind     `json:"kind"`
	Version      string   `json:"version"`
	APIVersions  []int    `json:"api_versions"`
	Capabilities []string `json:"capabilities,omitempty"`
	// ConfigSchema is a JSON object: parameter name -> {"type","default","doc"}.
	ConfigSchema json.RawMessage `json:"config_schema,omitempty"`
}

// Dataset tells a component where its data lives. Every component loads the
// dataset itself through core/data, so only this small description crosses
// the process boundary.
type Dataset struct {
	Dir string `json:"dir"`
	// Name is used for per-dataset defaults such as propensity A/B.
	Name string `json:"name,omitempty"`
	// Options are data-layer settings (tokeniser, max length, ...) as JSON.
	Options json.RawMessage `json:"options,omitempty"`
}

// Config is what Configure receives.
type Config struct {
	// Params is the component's own sub-tree of the grid cell, as JSON.
	Params     json.RawMessage `json:"params,omitempty"`
	Seed       uint64          `json:"seed"`
	Dataset    Dataset         `json:"dataset"`
	ScratchDir string          `json:"scratch_dir"`
}

// Plugin is implemented by every component.
type Plugin interface {
	Describe(ctx context.Context) (Info, error)
	// Configure validates Params (unknown keys are errors wrapping
	// ErrInvalidConfig) and loads what the component needs.
	Configure(ctx context.Context, c Config) error
}

// Batch is one training step's worth of work, produced by a sampler.
type Batch struct {
	// Docs are training-document ids.
	Docs []int32
	// Positives holds one positive label per doc (sampled by the sampler,
	// deterministic from the seed), aligned with Docs.
	Positives []int32
	// Negatives optionally holds explicit negative label ids per doc
	// (ANCE-style, uniform random). nil means in-batch negatives only.
	Negatives [][]int32
}

// StepStats is what a training step reports.
type StepStats struct {
	Loss float64 `json:"loss"`
	// Hardness is the mean cosine between each document and the negatives
	// the loss actually used (a measure of how hard the negatives were).
	Hardness float64 `json:"hardness"`
	// Items is the number of texts or feature rows the step encoded.
	Items int `json:"items"`
}

// Encoder is a shared-weight Siamese encoder for documents and labels.
type Encoder interface {
	Plugin
	TrainStep(ctx context.Context, b Batch) (StepStats, error)
	// Encode returns L2-normalised embeddings of the given items of split
	// (ids nil = all of them, in id order).
	Encode(ctx context.Context, split Split, ids []int32) (Matrix, error)
	Save(ctx context.Context, dir string) error
	Load(ctx context.Context, dir string) error
}

// MemoryBanker is an optional encoder ability: the document embeddings seen
// during the training forward passes (NGAME's asynchronous memory bank).
// Rows never seen yet are zero.
type MemoryBanker interface {
	MemoryBank(ctx context.Context) (Matrix, error)
}

// RefreshPlan is a sampler's answer to "do you want fresh embeddings before
// this epoch, and which?".
type RefreshPlan struct {
	Refresh    bool `json:"refresh"`
	NeedDocs   bool `json:"need_docs"`
	NeedLabels bool `json:"need_labels"`
	// DocSource is "fresh" (re-encode the training documents) or
	// "memory_bank" (the encoder's MemoryBank, when it has one).
	DocSource string `json:"doc_source,omitempty"`
}

// RefreshStats describes one refresh.
type RefreshStats struct {
	Wall time.Duration `json:"wall"`
	// Hardness is the mean cosine of the negatives the sampler will hand
	// out to their documents, measured on the embeddings it was given.
	Hardness float64 `json:"hardness"`
	// Detail is free-form (cluster count, index size, ...).
	Detail map[string]float64 `json:"detail,omitempty"`
}

// Sampler builds training batches.
type Sampler interface {
	Plugin
	Plan(ctx context.Context, epoch int) (RefreshPlan, error)
	// Refresh hands over embeddings (zero Matrix where not asked for).
	Refresh(ctx context.Context, epoch int, docs, labels Matrix) (RefreshStats, error)
	// Batches yields the epoch's batches. Samplers that promise it cover
	// every training document with at least one label exactly once.
	Batches(ctx context.Context, epoch, batchSize int) iter.Seq2[Batch, error]
}

// TrainInput is what a classifier trains on: frozen embeddings.
type TrainInput struct {
	TrainDocs Matrix `json:"train_docs"`
	Labels    Matrix `json:"labels"`
	Epochs    int    `json:"epochs,omitempty"`
}

// TrainStats summarises classifier training.
type TrainStats struct {
	Loss   float64            `json:"loss"`
	Wall   time.Duration      `json:"wall"`
	Detail map[string]float64 `json:"detail,omitempty"`
}

// TopK holds K predictions per row, row-major. Missing entries have label -1.
type TopK struct {
	Rows, K int
	Labels  []int32
	Scores  []float32
}

// Row returns row i's labels and scores.
func (t TopK) Row(i int) ([]int32, []float32) {
	return t.Labels[i*t.K : (i+1)*t.K], t.Scores[i*t.K : (i+1)*t.K]
}

// Classifier predicts labels for documents.
type Classifier interface {
	Plugin
	Train(ctx context.Context, in TrainInput) (TrainStats, error)
	// Predict scores docs (embeddings of split; classifiers that use raw
	// features, such as tf-idf kNN, read split from the dataset instead).
	Predict(ctx context.Context, split Split, docs Matrix, k int) (TopK, error)
}

// Sentinel errors. The gRPC adapters map status codes to these, so core can
// use errors.Is without importing grpc.
var (
	ErrInvalidConfig = errors.New("invalid config")
	ErrNotConfigured = errors.New("component not configured")
	ErrUnimplemented = errors.New("not implemented by this component")
	ErrPluginCrashed = errors.New("plugin process exited")
	ErrCanceled      = errors.New("canceled")
)
