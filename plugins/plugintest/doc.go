// Package plugintest is the conformance kit for xcbench components, in the
// spirit of testing/fstest.TestFS. Plugin authors call TestEncoder,
// TestSampler or TestClassifier from a Go test with a constructor and an
// sdk.Config; each check runs twice, on the component in-process and over
// real gRPC through the production wire server options (Connect), and fails
// the test with a message naming the broken promise: Describe fields, strict
// params (unknown keys wrap sdk.ErrInvalidConfig), embedding shapes and L2
// norms, Save/Load round trips, seed determinism, batches that cover each
// labelled training document once per epoch ("covers-epoch"), negatives
// disjoint from positives, ctx cancellation, and prediction shapes. Dataset
// facts the checks need come from the options or, when absent, from
// core/data.OpenSpec on cfg.Dataset. TestEncoderBinary, TestSamplerBinary
// and TestClassifierBinary run the same checks on a plugin executable in
// any language (ConnectBinary starts it as the host does).
package plugintest
