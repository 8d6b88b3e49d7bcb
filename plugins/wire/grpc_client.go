package wire

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/xcbench/xcbench/plugins/pluginv1"

	"github.com/xcbench/xcbench/plugins/sdk"
)

// pluginClient is the host side of PluginService, shared by the kinds. It
// remembers the scratch dir sent in Configure: large host matrices are
// written there and only their path crosses.
type pluginClient struct {
	pc      pluginv1.PluginServiceClient
	mu      sync.Mutex
	scratch string
}

func (c *pluginClient) Describe(ctx context.Context) (sdk.Info, error) {
	r, err := c.pc.Describe(ctx, &pluginv1.DescribeRequest{})
	if err != nil {
		return sdk.Info{}, fromStatus(err)
	}
	info := sdk.Info{Name: r.GetName(), Kind: sdk.Kind(r.GetKind()), Version: r.GetVersion(), Capabilities: r.GetCapabilities()}
	for _, v := range r.GetApiVersions() {
		info.APIVersions = append(info.APIVersions, int(v))
	}
	if s := r.GetConfigSchemaJson(); s != "" {
		info.ConfigSchema = json.RawMessage(s)
	}
	return info, nil
}

func (c *pluginClient) Configure(ctx context.Context, cfg sdk.Config) error {
	_, err := c.pc.Configure(ctx, &pluginv1.ConfigureRequest{
		ParamsJson: cfg.Params, Seed: cfg.Seed, ScratchDir: cfg.ScratchDir,
		Dataset: &pluginv1.Dataset{Dir: cfg.Dataset.Dir, Name: cfg.Dataset.Name, OptionsJson: cfg.Dataset.Options},
	})
	if err != nil {
		return fromStatus(err)
	}
	c.mu.Lock()
	c.scratch = cfg.ScratchDir
	c.mu.Unlock()
	return nil
}

func (c *pluginClient) toProto(m sdk.Matrix, what string) (*pluginv1.Matrix, error) {
	c.mu.Lock()
	dir := c.scratch
	c.mu.Unlock()
	return matrixToProto(m, dir, what)
}

// EncoderGRPCClient is the host side of a remote Encoder. It always
// implements MemoryBanker; encoders without one answer ErrUnimplemented.
type EncoderGRPCClient struct {
	pluginClient
	c pluginv1.EncoderServiceClient
}

// NewEncoderGRPCClient wraps a connection to a plugin serving an encoder.
func NewEncoderGRPCClient(cc grpc.ClientConnInterface) *EncoderGRPCClient {
	return &EncoderGRPCClient{pluginClient: pluginClient{pc: pluginv1.NewPluginServiceClient(cc)}, c: pluginv1.NewEncoderServiceClient(cc)}
}

func (c *EncoderGRPCClient) TrainStep(ctx context.Context, b sdk.Batch) (sdk.StepStats, error) {
	r, err := c.c.TrainStep(ctx, &pluginv1.TrainStepRequest{Batch: batchToProto(b)})
	if err != nil {
		return sdk.StepStats{}, fromStatus(err)
	}
	return sdk.StepStats{Loss: r.GetLoss(), Hardness: r.GetHardness(), Items: int(r.GetItems())}, nil
}

// Encode returns the embeddings; large ones come back as Path only (see
// LoadMatrix).
func (c *EncoderGRPCClient) Encode(ctx context.Context, split sdk.Split, ids []int32) (sdk.Matrix, error) {
	r, err := c.c.Encode(ctx, &pluginv1.EncodeRequest{Split: string(split), Ids: ids, AllItems: ids == nil})
	if err != nil {
		return sdk.Matrix{}, fromStatus(err)
	}
	return matrixFromProto(r.GetEmbeddings(), "encode")
}

func (c *EncoderGRPCClient) Save(ctx context.Context, dir string) error {
	_, err := c.c.Save(ctx, &pluginv1.SaveRequest{Dir: dir})
	return fromStatus(err)
}

func (c *EncoderGRPCClient) Load(ctx context.Context, dir string) error {
	_, err := c.c.Load(ctx, &pluginv1.LoadRequest{Dir: dir})
	return fromStatus(err)
}

func (c *EncoderGRPCClient) MemoryBank(ctx context.Context) (sdk.Matrix, error) {
	r, err := c.c.MemoryBank(ctx, &pluginv1.MemoryBankRequest{})
	if err != nil {
		return sdk.Matrix{}, fromStatus(err)
	}
	return matrixFromProto(r.GetEmbeddings(), "memory bank")
}

// SamplerGRPCClient is the host side of a remote Sampler.
type SamplerGRPCClient struct {
	pluginClient
	c pluginv1.SamplerServiceClient
}

// NewSamplerGRPCClient wraps a connection to a plugin serving a sampler.
func NewSamplerGRPCClient(cc grpc.ClientConnInterface) *SamplerGRPCClient {
	return &SamplerGRPCClient{pluginClient: pluginClient{pc: pluginv1.NewPluginServiceClient(cc)}, c: pluginv1.NewSamplerServiceClient(cc)}
}

func (c *SamplerGRPCClient) Plan(ctx context.Context, epoch int) (sdk.RefreshPlan, error) {
	r, err := c.c.Plan(ctx, &pluginv1.PlanRequest{Epoch: int32(epoch)})
	if err != nil {
		return sdk.RefreshPlan{}, fromStatus(err)
	}
	return sdk.RefreshPlan{Refresh: r.GetRefresh(), NeedDocs: r.GetNeedDocs(), NeedLabels: r.GetNeedLabels(), DocSource: r.GetDocSource()}, nil
}

func (c *SamplerGRPCClient) Refresh(ctx context.Context, epoch int, docs, labels sdk.Matrix) (sdk.RefreshStats, error) {
	pd, err := c.toProto(docs, "refresh-docs")
	if err != nil {
		return sdk.RefreshStats{}, err
	}
	pl, err := c.toProto(labels, "refresh-labels")
	if err != nil {
		return sdk.RefreshStats{}, err
	}
	r, err := c.c.Refresh(ctx, &pluginv1.RefreshRequest{Epoch: int32(epoch), Docs: pd, Labels: pl})
	if err != nil {
		return sdk.RefreshStats{}, fromStatus(err)
	}
	return sdk.RefreshStats{Wall: time.Duration(r.GetWallNs()), Hardness: r.GetHardness(), Detail: r.GetDetail()}, nil
}

// Batches streams the epoch's batches; stopping the iteration early or
// cancelling ctx cancels the stream.
func (c *SamplerGRPCClient) Batches(ctx context.Context, epoch, batchSize int) iter.Seq2[sdk.Batch, error] {
	return func(yield func(sdk.Batch, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		st, err := c.c.Batches(ctx, &pluginv1.BatchesRequest{Epoch: int32(epoch), BatchSize: int32(batchSize)})
		if err != nil {
			yield(sdk.Batch{}, fromStatus(err))
			return
		}
		for {
			r, err := st.Recv()
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(sdk.Batch{}, fromStatus(err))
				return
			}
			// gRPC may hand over messages buffered before the cancel; the
			// caller asked to stop, so stop here as well.
			if err := ctx.Err(); err != nil {
				yield(sdk.Batch{}, fmt.Errorf("batches: %w", err))
				return
			}
			if !yield(batchFromProto(r.GetBatch()), nil) {
				return
			}
		}
	}
}

// ClassifierGRPCClient is the host side of a remote Classifier.
type ClassifierGRPCClient struct {
	pluginClient
	c pluginv1.ClassifierServiceClient
}

// NewClassifierGRPCClient wraps a connection to a plugin serving a classifier.
func NewClassifierGRPCClient(cc grpc.ClientConnInterface) *ClassifierGRPCClient {
	return &ClassifierGRPCClient{pluginClient: pluginClient{pc: pluginv1.NewPluginServiceClient(cc)}, c: pluginv1.NewClassifierServiceClient(cc)}
}

func (c *ClassifierGRPCClient) Train(ctx context.Context, in sdk.TrainInput) (sdk.TrainStats, error) {
	pd, err := c.toProto(in.TrainDocs, "train-docs")
	if err != nil {
		return sdk.TrainStats{}, err
	}
	pl, err := c.toProto(in.Labels, "train-labels")
	if err != nil {
		return sdk.TrainStats{}, err
	}
	r, err := c.c.Train(ctx, &pluginv1.TrainRequest{TrainDocs: pd, Labels: pl, Epochs: int32(in.Epochs)})
	if err != nil {
		return sdk.TrainStats{}, fromStatus(err)
	}
	return sdk.TrainStats{Loss: r.GetLoss(), Wall: time.Duration(r.GetWallNs()), Detail: r.GetDetail()}, nil
}

// Predict collects the streamed row chunks into one TopK.
func (c *ClassifierGRPCClient) Predict(ctx context.Context, split sdk.Split, docs sdk.Matrix, k int) (sdk.TopK, error) {
	pd, err := c.toProto(docs, "predict-docs")
	if err != nil {
		return sdk.TopK{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := c.c.Predict(ctx, &pluginv1.PredictRequest{Split: string(split), Docs: pd, K: int32(k)})
	if err != nil {
		return sdk.TopK{}, fromStatus(err)
	}
	var out sdk.TopK
	got := 0
	for first := true; ; first = false {
		r, err := st.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return sdk.TopK{}, fromStatus(err)
		}
		if first {
			out = sdk.TopK{Rows: int(r.GetTotalRows()), K: int(r.GetK())}
			out.Labels = make([]int32, 0, out.Rows*out.K)
			out.Scores = make([]float32, 0, out.Rows*out.K)
		}
		if int(r.GetRowStart()) != got || int(r.GetK()) != out.K || len(r.GetLabels()) != len(r.GetScores()) ||
			(out.K > 0 && len(r.GetLabels())%out.K != 0) {
			return sdk.TopK{}, fmt.Errorf("wire: predict stream: bad chunk at row %d (k=%d, %d labels, %d scores)",
				r.GetRowStart(), r.GetK(), len(r.GetLabels()), len(r.GetScores()))
		}
		out.Labels = append(out.Labels, r.GetLabels()...)
		out.Scores = append(out.Scores, r.GetScores()...)
		if out.K > 0 {
			got += len(r.GetLabels()) / out.K
		}
	}
	if out.K > 0 && got != out.Rows {
		return sdk.TopK{}, fmt.Errorf("wire: predict stream ended after %d of %d rows", got, out.Rows)
	}
	return out, nil
}
