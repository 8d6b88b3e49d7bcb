// Package runner runs grid cells: it launches each cell's encoder, sampler
// and classifier through a Launcher (out-of-process plugins via
// plugins/host, or in-process components from plugins/registry), trains the
// encoder epoch by epoch on the sampler's batches (refreshing the sampler
// with embeddings when it asks), evaluates on the grid's schedule, runs the
// optional stage-2 classifier, and records everything in a results.Store.
// Every epoch ends with a fsynced record and an encoder checkpoint, so a
// killed run resumes at the next epoch: the runner reloads the checkpoint,
// drops records past it, and replays the sampler's last refresh with the
// very embeddings it was given (saved beside the checkpoint), which makes a
// resumed cell's results equal an uninterrupted run's whenever the
// components are deterministic in (seed, epoch, inputs). A cell that fails
// (plugin crash, panic, bad config) is recorded as failed and the grid goes
// on; cancelling the context stops after killing the plugins, leaving the
// cell resumable.
package runner
