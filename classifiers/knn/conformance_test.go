package knn

import (
	"testing"

	"github.com/xcbench/xcbench/plugins/plugintest"
	"github.com/xcbench/xcbench/plugins/sdk"
)

func TestConformance(t *testing.T) {
	plugintest.TestClassifier(t, func() sdk.Classifier { return New() }, sdk.Config{Seed: 1},
		plugintest.ClassifierOptions{NumTrain: 30, NumTest: 40, NumLabels: 20, K: 25})
}
