package main

// The built-in samplers register themselves with plugins/registry from init.
import (
	_ "github.com/xcbench/xcbench/samplers/ance"
	_ "github.com/xcbench/xcbench/samplers/ngame"
	_ "github.com/xcbench/xcbench/samplers/random"
	_ "github.com/xcbench/xcbench/samplers/tasb"
)
