package siamese

import (
	"encoding/json"
	"fmt"

	"github.com/xcbench/xcbench/plugins/sdk"
)

// TrainConfig holds the parameters every Siamese encoder shares. Encoders
// embed it with `koanf:",squash"` next to their own network parameters.
type TrainConfig struct {
	Backend      string  `koanf:"backend"`
	LR           float64 `koanf:"lr"`
	WeightDecay  float64 `koanf:"weight_decay"`
	WarmupSteps  int     `koanf:"warmup_steps"`
	TotalSteps   int     `koanf:"total_steps"`
	Loss         string  `koanf:"loss"`
	Margin       float64 `koanf:"margin"`
	NumNegatives int     `koanf:"num_negatives"`
	Tau          float64 `koanf:"tau"`
	Temperature  float64 `koanf:"temperature"`
	BatchSize    int     `koanf:"batch_size"`
	EncodeBatch  int     `koanf:"encode_batch"`
	Dropout      float64 `koanf:"dropout"`
	GradCache    int     `koanf:"grad_cache"`
}

// DefaultTrainConfig is NGAME's M1 setting except the learning rate (2e-4
// is tuned for a pretrained DistilBERT; small encoders from scratch want more).
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{
		LR: 1e-3, WarmupSteps: AutoWarmup, Loss: "triplet", Margin: 0.3, NumNegatives: 10, Tau: 0.1,
		Temperature: 0.05, BatchSize: 256, EncodeBatch: 512,
	}
}

// AutoWarmup is the default warmup_steps: NGAME's 100 steps, but at most a
// tenth of total_steps, so short runs (small data sets, few epochs) are not
// spent entirely in warm-up. An explicit warmup_steps is taken as given.
const AutoWarmup = -1

// Warmup resolves AutoWarmup.
func (c TrainConfig) Warmup() int {
	if c.WarmupSteps != AutoWarmup {
		return c.WarmupSteps
	}
	if c.TotalSteps > 0 {
		return min(100, c.TotalSteps/10)
	}
	return 100
}

// TrainDocs documents TrainConfig for ConfigSchema.
var TrainDocs = map[string]string{
	"backend":       `GoMLX backend: "" = $XCBENCH_BACKEND or pure-Go "go:parallelism=-1"; "xla:cuda" or "xla:/abs/plugin.so" need a build with -tags xla`,
	"lr":            "AdamW peak learning rate",
	"weight_decay":  "AdamW decoupled weight decay (not applied to biases and norms)",
	"warmup_steps":  "linear warm-up steps (-1 = NGAME's 100, capped at a tenth of total_steps)",
	"total_steps":   "step at which the linearly decayed learning rate reaches 0 (0 = no decay)",
	"loss":          `"triplet" (NGAME TripletMarginLossOHNM), "infonce" or "dsoftmax" (DEXML's decoupled softmax: each positive's softmax over the negatives only, the document's other in-batch positives masked)`,
	"margin":        "triplet margin",
	"num_negatives": "triplet: hardest candidates per document (k)",
	"tau":           "triplet: softmax temperature of the negative weighting",
	"temperature":   "infonce and dsoftmax: temperature",
	"batch_size":    "compiled training batch size; smaller batches are padded and masked",
	"encode_batch":  "compiled batch size of Encode",
	"dropout":       "dropout rate on the pooled embeddings during training (masks drawn from the seed and step number)",
	"grad_cache":    "gradient caching chunk (GradCache): when a padded batch exceeds it, encode the batch in chunks of this many texts without keeping their graphs, compute the loss on all the embeddings, then backpropagate chunk by chunk; the same gradients with encoder memory bounded by the chunk instead of the batch (0 = off)",
}

// Validate checks ranges.
func (c TrainConfig) Validate() error {
	switch {
	case c.LR <= 0:
		return fmt.Errorf("%w: lr must be > 0, got %g", sdk.ErrInvalidConfig, c.LR)
	case c.WeightDecay < 0:
		return fmt.Errorf("%w: weight_decay must be >= 0", sdk.ErrInvalidConfig)
	case c.WarmupSteps < AutoWarmup || c.TotalSteps < 0:
		return fmt.Errorf("%w: warmup_steps must be >= 0 (or -1 = auto) and total_steps >= 0", sdk.ErrInvalidConfig)
	case c.TotalSteps > 0 && c.TotalSteps <= c.Warmup():
		return fmt.Errorf("%w: total_steps %d must exceed warmup_steps %d", sdk.ErrInvalidConfig, c.TotalSteps, c.WarmupSteps)
	case c.Loss != "triplet" && c.Loss != "infonce" && c.Loss != "dsoftmax":
		return fmt.Errorf("%w: loss %q: want triplet, infonce or dsoftmax", sdk.ErrInvalidConfig, c.Loss)
	case c.NumNegatives < 1:
		return fmt.Errorf("%w: num_negatives must be >= 1", sdk.ErrInvalidConfig)
	case c.Tau <= 0 || c.Temperature <= 0:
		return fmt.Errorf("%w: tau and temperature must be > 0", sdk.ErrInvalidConfig)
	case c.Dropout < 0 || c.Dropout >= 1:
		return fmt.Errorf("%w: dropout must be in [0, 1)", sdk.ErrInvalidConfig)
	case c.GradCache < 0:
		return fmt.Errorf("%w: grad_cache must be >= 0", sdk.ErrInvalidConfig)
	case c.BatchSize < 2 || c.EncodeBatch < 1:
		return fmt.Errorf("%w: batch_size must be >= 2 and encode_batch >= 1", sdk.ErrInvalidConfig)
	}
	return nil
}

// DecodeParams is sdk.DecodeParams (strict: an unknown key is an error
// wrapping sdk.ErrInvalidConfig that names the key).
func DecodeParams(raw json.RawMessage, out any) error { return sdk.DecodeParams(raw, out) }

// Schema builds the ConfigSchema JSON from a struct value holding the
// defaults and a doc per koanf key (sdk.ParamsOf: a field without a doc or
// a doc without a field is an error, so the two cannot drift apart).
func Schema(defaults any, docs map[string]string) (json.RawMessage, error) {
	ps, err := sdk.ParamsOf(defaults, docs)
	if err != nil {
		return nil, err
	}
	return sdk.Schema(ps...), nil
}
