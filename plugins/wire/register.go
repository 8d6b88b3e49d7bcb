package wire

import (
	"google.golang.org/grpc"

	"github.com/xcbench/xcbench/plugins/pluginv1"
)

func registerPlugin(s grpc.ServiceRegistrar, srv pluginv1.PluginServiceServer) {
	pluginv1.RegisterPluginServiceServer(s, srv)
}

func registerEncoder(s grpc.ServiceRegistrar, srv pluginv1.EncoderServiceServer) {
	pluginv1.RegisterEncoderServiceServer(s, srv)
}

func registerSampler(s grpc.ServiceRegistrar, srv pluginv1.SamplerServiceServer) {
	pluginv1.RegisterSamplerServiceServer(s, srv)
}

func registerClassifier(s grpc.ServiceRegistrar, srv pluginv1.ClassifierServiceServer) {
	pluginv1.RegisterClassifierServiceServer(s, srv)
}
