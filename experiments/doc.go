// Package experiments holds the declarative grid files that the README and
// the committed reports use (quickstart.yaml, ngame-vs-ance-vs-random.yaml).
// Its tests keep them honest: every grid loads strictly and expands, and a
// reduced version of the sampler ablation runs end to end and renders a
// report with the same structure as the committed one in
// reports/results/ngame-vs-ance-vs-random.
package experiments
