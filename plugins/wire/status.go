package wire

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/xcbench/xcbench/plugins/sdk"
)

// toStatus turns a component's error into a gRPC status whose code carries
// the sentinel, so the host side can map it back (fromStatus).
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	code := codes.Unknown
	switch {
	case errors.Is(err, sdk.ErrInvalidConfig):
		code = codes.InvalidArgument
	case errors.Is(err, sdk.ErrUnimplemented):
		code = codes.Unimplemented
	case errors.Is(err, sdk.ErrNotConfigured):
		code = codes.FailedPrecondition
	case errors.Is(err, sdk.ErrCanceled), errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case errors.Is(err, sdk.ErrPluginCrashed):
		code = codes.Unavailable
	}
	return status.Error(code, err.Error())
}

// RemoteError is an error returned by a component in another process. Its
// message is the component's; errors.Is matches the sentinel its status
// code stands for.
type RemoteError struct {
	Code    codes.Code
	Message string
	is      []error
}

func (e *RemoteError) Error() string   { return e.Message }
func (e *RemoteError) Unwrap() []error { return e.is }

// fromStatus maps a gRPC error back onto the sentinels. Non-status errors
// (local failures such as a matrix that cannot be encoded) pass unchanged.
func fromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	e := &RemoteError{Code: st.Code(), Message: st.Message()}
	switch st.Code() {
	case codes.InvalidArgument:
		e.is = []error{sdk.ErrInvalidConfig}
	case codes.Unimplemented:
		e.is = []error{sdk.ErrUnimplemented}
	case codes.FailedPrecondition:
		e.is = []error{sdk.ErrNotConfigured}
	case codes.Canceled:
		e.is = []error{sdk.ErrCanceled, context.Canceled}
	case codes.DeadlineExceeded:
		e.is = []error{context.DeadlineExceeded}
	case codes.Unavailable:
		e.is = []error{sdk.ErrPluginCrashed}
		e.Message = "plugin unreachable: " + st.Message()
	}
	return e
}
