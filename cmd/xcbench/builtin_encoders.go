package main

// Built-in encoders register themselves in plugins/registry from init.
import (
	_ "github.com/xcbench/xcbench/encoders/bow"
	_ "github.com/xcbench/xcbench/encoders/transformer"
)
