// Package experiments holds the declarative grid files that the README and
// the committed reports use: quickstart.yaml (and its Python twin), the
// small-label sampler ablation ngame-vs-ance-vs-random.yaml, the debdeps
// runs ngame-debdeps.yaml and ngame-debdeps-long.yaml, the synthetic scale
// run ngame-synth-scale.yaml, and the delicious pipeline chosen on a
// validation split (delicious-tune.yaml) then run on the test split
// (delicious-final.yaml). Its tests keep them honest: every grid loads
// strictly and expands, and a reduced version of the sampler ablation runs
// end to end and renders a report with the same structure as the committed
// one in reports/results/ngame-vs-ance-vs-random.
package experiments
