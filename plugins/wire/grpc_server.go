package wire

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/xcbench/xcbench/plugins/pluginv1"

	"github.com/xcbench/xcbench/plugins/sdk"
)

// serverLog receives panic stacks; Serve points it at the plugin's logger.
var serverLog = hclog.NewNullLogger()

// recoverCall turns a panic inside a component into an Internal status, so a
// bug in a component fails the call instead of killing the process.
func recoverCall(call string, errp *error) {
	if r := recover(); r != nil {
		serverLog.Error("panic in component", "call", call, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		*errp = status.Errorf(codes.Internal, "panic in %s: %v", call, r)
	}
}

// scratch remembers the scratch dir from Configure: the server adapters
// write outgoing large matrices there.
type scratch struct {
	mu  sync.Mutex
	dir string
}

func (s *scratch) get() string  { s.mu.Lock(); defer s.mu.Unlock(); return s.dir }
func (s *scratch) set(d string) { s.mu.Lock(); s.dir = d; s.mu.Unlock() }

func describeServer(ctx context.Context, impl sdk.Plugin) (_ *pluginv1.DescribeResponse, err error) {
	defer recoverCall("Describe", &err)
	info, err := impl.Describe(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	apis := make([]int32, len(info.APIVersions))
	for i, v := range info.APIVersions {
		apis[i] = int32(v)
	}
	return &pluginv1.DescribeResponse{
		Name: info.Name, Kind: string(info.Kind), Version: info.Version,
		ApiVersions: apis, Capabilities: info.Capabilities,
		ConfigSchemaJson: string(info.ConfigSchema),
	}, nil
}

func configureServer(ctx context.Context, impl sdk.Plugin, sc *scratch, r *pluginv1.ConfigureRequest) (_ *pluginv1.ConfigureResponse, err error) {
	defer recoverCall("Configure", &err)
	c := sdk.Config{
		Params: json.RawMessage(r.GetParamsJson()), Seed: r.GetSeed(), ScratchDir: r.GetScratchDir(),
		Dataset: sdk.Dataset{Dir: r.GetDataset().GetDir(), Name: r.GetDataset().GetName(), Options: json.RawMessage(r.GetDataset().GetOptionsJson())},
	}
	if len(c.Params) == 0 {
		c.Params = nil
	}
	if len(c.Dataset.Options) == 0 {
		c.Dataset.Options = nil
	}
	if err := impl.Configure(ctx, c); err != nil {
		return nil, toStatus(err)
	}
	sc.set(c.ScratchDir)
	return &pluginv1.ConfigureResponse{}, nil
}

// loadIncoming decodes a host matrix and reads its .npy, so components
// always see Data (Path stays set for components that want to mmap it).
func loadIncoming(pm *pluginv1.Matrix, what string) (sdk.Matrix, error) {
	m, err := matrixFromProto(pm, what)
	if err != nil {
		return m, status.Error(codes.InvalidArgument, err.Error())
	}
	if m, err = sdk.LoadMatrix(m); err != nil {
		return m, status.Errorf(codes.InvalidArgument, "%s: %v", what, err)
	}
	return m, nil
}

func outgoing(m sdk.Matrix, sc *scratch, what string) (*pluginv1.Matrix, error) {
	pm, err := matrixToProto(m, sc.get(), what)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return pm, nil
}

// EncoderGRPCServer serves an Encoder over gRPC (PluginService and
// EncoderService). The zero value with Impl set is ready.
type EncoderGRPCServer struct {
	pluginv1.UnimplementedPluginServiceServer
	pluginv1.UnimplementedEncoderServiceServer
	Impl    sdk.Encoder
	scratch scratch
}

func (s *EncoderGRPCServer) Describe(ctx context.Context, _ *pluginv1.DescribeRequest) (*pluginv1.DescribeResponse, error) {
	return describeServer(ctx, s.Impl)
}

func (s *EncoderGRPCServer) Configure(ctx context.Context, r *pluginv1.ConfigureRequest) (*pluginv1.ConfigureResponse, error) {
	return configureServer(ctx, s.Impl, &s.scratch, r)
}

func (s *EncoderGRPCServer) TrainStep(ctx context.Context, r *pluginv1.TrainStepRequest) (_ *pluginv1.TrainStepResponse, err error) {
	defer recoverCall("TrainStep", &err)
	st, err := s.Impl.TrainStep(ctx, batchFromProto(r.GetBatch()))
	if err != nil {
		return nil, toStatus(err)
	}
	return &pluginv1.TrainStepResponse{Loss: st.Loss, Hardness: st.Hardness, Items: int64(st.Items)}, nil
}

func (s *EncoderGRPCServer) Encode(ctx context.Context, r *pluginv1.EncodeRequest) (_ *pluginv1.EncodeResponse, err error) {
	defer recoverCall("Encode", &err)
	ids := r.GetIds()
	if r.GetAllItems() {
		ids = nil
	} else if ids == nil {
		ids = []int32{}
	}
	m, err := s.Impl.Encode(ctx, sdk.Split(r.GetSplit()), ids)
	if err != nil {
		return nil, toStatus(err)
	}
	pm, err := outgoing(m, &s.scratch, "encode-"+r.GetSplit())
	if err != nil {
		return nil, err
	}
	return &pluginv1.EncodeResponse{Embeddings: pm}, nil
}

func (s *EncoderGRPCServer) Save(ctx context.Context, r *pluginv1.SaveRequest) (_ *pluginv1.SaveResponse, err error) {
	defer recoverCall("Save", &err)
	if err := s.Impl.Save(ctx, r.GetDir()); err != nil {
		return nil, toStatus(err)
	}
	return &pluginv1.SaveResponse{}, nil
}

func (s *EncoderGRPCServer) Load(ctx context.Context, r *pluginv1.LoadRequest) (_ *pluginv1.LoadResponse, err error) {
	defer recoverCall("Load", &err)
	if err := s.Impl.Load(ctx, r.GetDir()); err != nil {
		return nil, toStatus(err)
	}
	return &pluginv1.LoadResponse{}, nil
}

func (s *EncoderGRPCServer) MemoryBank(ctx context.Context, _ *pluginv1.MemoryBankRequest) (_ *pluginv1.MemoryBankResponse, err error) {
	defer recoverCall("MemoryBank", &err)
	mb, ok := s.Impl.(sdk.MemoryBanker)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "encoder keeps no memory bank")
	}
	m, err := mb.MemoryBank(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	pm, err := outgoing(m, &s.scratch, "memory-bank")
	if err != nil {
		return nil, err
	}
	return &pluginv1.MemoryBankResponse{Embeddings: pm}, nil
}

// SamplerGRPCServer serves a Sampler over gRPC.
type SamplerGRPCServer struct {
	pluginv1.UnimplementedPluginServiceServer
	pluginv1.UnimplementedSamplerServiceServer
	Impl    sdk.Sampler
	scratch scratch
}

func (s *SamplerGRPCServer) Describe(ctx context.Context, _ *pluginv1.DescribeRequest) (*pluginv1.DescribeResponse, error) {
	return describeServer(ctx, s.Impl)
}

func (s *SamplerGRPCServer) Configure(ctx context.Context, r *pluginv1.ConfigureRequest) (*pluginv1.ConfigureResponse, error) {
	return configureServer(ctx, s.Impl, &s.scratch, r)
}

func (s *SamplerGRPCServer) Plan(ctx context.Context, r *pluginv1.PlanRequest) (_ *pluginv1.PlanResponse, err error) {
	defer recoverCall("Plan", &err)
	p, err := s.Impl.Plan(ctx, int(r.GetEpoch()))
	if err != nil {
		return nil, toStatus(err)
	}
	return &pluginv1.PlanResponse{Refresh: p.Refresh, NeedDocs: p.NeedDocs, NeedLabels: p.NeedLabels, DocSource: p.DocSource}, nil
}

func (s *SamplerGRPCServer) Refresh(ctx context.Context, r *pluginv1.RefreshRequest) (_ *pluginv1.RefreshResponse, err error) {
	defer recoverCall("Refresh", &err)
	docs, err := loadIncoming(r.GetDocs(), "refresh docs")
	if err != nil {
		return nil, err
	}
	labels, err := loadIncoming(r.GetLabels(), "refresh labels")
	if err != nil {
		return nil, err
	}
	st, err := s.Impl.Refresh(ctx, int(r.GetEpoch()), docs, labels)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pluginv1.RefreshResponse{WallNs: int64(st.Wall), Hardness: st.Hardness, Detail: st.Detail}, nil
}

func (s *SamplerGRPCServer) Batches(r *pluginv1.BatchesRequest, stream pluginv1.SamplerService_BatchesServer) (err error) {
	defer recoverCall("Batches", &err)
	for b, err := range s.Impl.Batches(stream.Context(), int(r.GetEpoch()), int(r.GetBatchSize())) {
		if err != nil {
			return toStatus(err)
		}
		if err := stream.Send(&pluginv1.BatchesResponse{Batch: batchToProto(b)}); err != nil {
			return err
		}
	}
	return nil
}

// ClassifierGRPCServer serves a Classifier over gRPC.
type ClassifierGRPCServer struct {
	pluginv1.UnimplementedPluginServiceServer
	pluginv1.UnimplementedClassifierServiceServer
	Impl    sdk.Classifier
	scratch scratch
}

func (s *ClassifierGRPCServer) Describe(ctx context.Context, _ *pluginv1.DescribeRequest) (*pluginv1.DescribeResponse, error) {
	return describeServer(ctx, s.Impl)
}

func (s *ClassifierGRPCServer) Configure(ctx context.Context, r *pluginv1.ConfigureRequest) (*pluginv1.ConfigureResponse, error) {
	return configureServer(ctx, s.Impl, &s.scratch, r)
}

func (s *ClassifierGRPCServer) Train(ctx context.Context, r *pluginv1.TrainRequest) (_ *pluginv1.TrainResponse, err error) {
	defer recoverCall("Train", &err)
	docs, err := loadIncoming(r.GetTrainDocs(), "train docs")
	if err != nil {
		return nil, err
	}
	labels, err := loadIncoming(r.GetLabels(), "train labels")
	if err != nil {
		return nil, err
	}
	st, err := s.Impl.Train(ctx, sdk.TrainInput{TrainDocs: docs, Labels: labels, Epochs: int(r.GetEpochs())})
	if err != nil {
		return nil, toStatus(err)
	}
	return &pluginv1.TrainResponse{Loss: st.Loss, WallNs: int64(st.Wall), Detail: st.Detail}, nil
}

// predictChunkBytes bounds one PredictResponse message.
const predictChunkBytes = 1 << 20

func (s *ClassifierGRPCServer) Predict(r *pluginv1.PredictRequest, stream pluginv1.ClassifierService_PredictServer) (err error) {
	defer recoverCall("Predict", &err)
	docs, err := loadIncoming(r.GetDocs(), "predict docs")
	if err != nil {
		return err
	}
	top, err := s.Impl.Predict(stream.Context(), sdk.Split(r.GetSplit()), docs, int(r.GetK()))
	if err != nil {
		return toStatus(err)
	}
	if len(top.Labels) != top.Rows*top.K || len(top.Scores) != top.Rows*top.K {
		return status.Errorf(codes.Internal, "Predict returned %d rows x k=%d with %d labels and %d scores",
			top.Rows, top.K, len(top.Labels), len(top.Scores))
	}
	per := 1
	if top.K > 0 {
		per = max(1, predictChunkBytes/(8*top.K))
	}
	start := time.Now()
	for lo := 0; lo < top.Rows || lo == 0; lo += per {
		hi := min(top.Rows, lo+per)
		err := stream.Send(&pluginv1.PredictResponse{
			TotalRows: int32(top.Rows), K: int32(top.K), RowStart: int32(lo),
			Labels: top.Labels[lo*top.K : hi*top.K], Scores: top.Scores[lo*top.K : hi*top.K],
		})
		if err != nil {
			return err
		}
		if top.Rows == 0 {
			break
		}
	}
	serverLog.Trace("predict streamed", "rows", top.Rows, "wall", time.Since(start))
	return nil
}
