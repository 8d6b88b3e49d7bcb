// Package sparse holds the compressed sparse row matrix that every xcbench
// component uses for label matrices (documents x labels) and bag-of-words
// features (documents x vocabulary). Rows are immutable once built: column
// indices inside a row are sorted ascending and unique, values are float32,
// and the zero value of CSR is an empty 0x0 matrix. Builders validate their
// input and return errors instead of panicking, because matrices are read
// from user files.
package sparse
