// Package optim is the host-side AdamW the encoders use: parameters live in
// Go slices, the graph returns their gradients, and the update runs here.
// Dense parameters get a full update; embedding tables get a row-sparse
// ("lazy") update of only the rows a step touched, so step time does not
// grow with the vocabulary. The learning rate follows a linear warm-up and an
// optional linear decay to zero. Updates are plain sequential loops, so the
// same gradients give bit-identical parameters.
package optim
