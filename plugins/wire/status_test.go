package wire

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/xcbench/xcbench/plugins/sdk"
)

func TestStatusRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code codes.Code
		is   []error
	}{
		{"invalid config", fmt.Errorf("x: unknown key %q: %w", "foo", sdk.ErrInvalidConfig), codes.InvalidArgument, []error{sdk.ErrInvalidConfig}},
		{"unimplemented", sdk.ErrUnimplemented, codes.Unimplemented, []error{sdk.ErrUnimplemented}},
		{"not configured", fmt.Errorf("encode: %w", sdk.ErrNotConfigured), codes.FailedPrecondition, []error{sdk.ErrNotConfigured}},
		{"ctx canceled", fmt.Errorf("batches: %w", context.Canceled), codes.Canceled, []error{sdk.ErrCanceled, context.Canceled}},
		{"sdk canceled", sdk.ErrCanceled, codes.Canceled, []error{sdk.ErrCanceled, context.Canceled}},
		{"deadline", context.DeadlineExceeded, codes.DeadlineExceeded, []error{context.DeadlineExceeded}},
		{"other", errors.New("disk full"), codes.Unknown, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := toStatus(tc.err)
			if got := status.Code(st); got != tc.code {
				t.Fatalf("code = %v, want %v", got, tc.code)
			}
			back := fromStatus(st)
			if back.Error() != tc.err.Error() {
				t.Fatalf("message %q, want %q", back.Error(), tc.err.Error())
			}
			for _, want := range tc.is {
				if !errors.Is(back, want) {
					t.Fatalf("errors.Is(%v, %v) = false", back, want)
				}
			}
			if tc.is == nil && (errors.Is(back, sdk.ErrInvalidConfig) || errors.Is(back, sdk.ErrPluginCrashed)) {
				t.Fatalf("plain error mapped onto a sentinel: %v", back)
			}
		})
	}
	if !errors.Is(fromStatus(status.Error(codes.Unavailable, "transport is closing")), sdk.ErrPluginCrashed) {
		t.Fatal("Unavailable does not map to ErrPluginCrashed")
	}
	if toStatus(nil) != nil || fromStatus(nil) != nil {
		t.Fatal("nil not preserved")
	}
}
