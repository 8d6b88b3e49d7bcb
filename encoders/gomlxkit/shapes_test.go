package gomlxkit

import (
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

func shapesF64(dims []int) shapes.Shape  { return shapes.Make(dtypes.Float64, dims...) }
func shapesI32(dims ...int) shapes.Shape { return shapes.Make(dtypes.Int32, dims...) }
