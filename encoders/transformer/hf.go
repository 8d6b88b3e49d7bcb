package transformer

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/xcbench/xcbench/encoders/optim"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// hfCheckpoint is a BERT-family checkpoint folder read into memory.
type hfCheckpoint struct {
	dir                                      string
	dim, layers, heads, ffn, maxPos, vocabSz int
	activation                               string
	eps                                      float64
	vocab                                    []string
	tensors                                  map[string]Tensor // prefix ("distilbert.", "bert.") stripped
}

// readHF reads config.json (DistilBERT or BERT keys), vocab.txt and
// model.safetensors from dir.
func readHF(dir string) (*hfCheckpoint, error) {
	cfgPath := filepath.Join(dir, "config.json")
	raw, err := os.ReadFile(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("%w: checkpoint_dir: %w", sdk.ErrInvalidConfig, err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", sdk.ErrInvalidConfig, cfgPath, err)
	}
	num := func(keys ...string) int {
		for _, k := range keys {
			if v, ok := c[k].(float64); ok {
				return int(v)
			}
		}
		return 0
	}
	hf := &hfCheckpoint{
		dir:     dir,
		dim:     num("dim", "hidden_size"),
		layers:  num("n_layers", "num_hidden_layers"),
		heads:   num("n_heads", "num_attention_heads"),
		ffn:     num("hidden_dim", "intermediate_size"),
		maxPos:  num("max_position_embeddings"),
		vocabSz: num("vocab_size"),
		eps:     1e-12,
	}
	if v, ok := c["layer_norm_eps"].(float64); ok {
		hf.eps = v
	}
	act, _ := c["activation"].(string)
	if act == "" {
		act, _ = c["hidden_act"].(string)
	}
	switch act {
	case "gelu", "":
		hf.activation = "gelu"
	case "relu":
		hf.activation = "relu"
	default:
		return nil, fmt.Errorf("%w: %s: activation %q not supported (gelu, relu)", sdk.ErrInvalidConfig, cfgPath, act)
	}
	if hf.dim == 0 || hf.layers == 0 || hf.heads == 0 || hf.ffn == 0 || hf.maxPos == 0 {
		return nil, fmt.Errorf("%w: %s: missing dim/layers/heads/ffn/max_position_embeddings (DistilBERT or BERT config expected)", sdk.ErrInvalidConfig, cfgPath)
	}
	vf, err := os.Open(filepath.Join(dir, "vocab.txt"))
	if err != nil {
		return nil, fmt.Errorf("%w: checkpoint_dir: %w", sdk.ErrInvalidConfig, err)
	}
	defer vf.Close()
	sc := bufio.NewScanner(vf)
	for sc.Scan() {
		hf.vocab = append(hf.vocab, strings.TrimRight(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("checkpoint vocab.txt: %w", err)
	}
	if hf.vocabSz != 0 && hf.vocabSz != len(hf.vocab) {
		return nil, fmt.Errorf("%w: %s says vocab_size %d, vocab.txt has %d lines", sdk.ErrInvalidConfig, cfgPath, hf.vocabSz, len(hf.vocab))
	}
	ts, err := ReadSafetensors(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		return nil, fmt.Errorf("%w: checkpoint_dir: %w", sdk.ErrInvalidConfig, err)
	}
	hf.tensors = map[string]Tensor{}
	for k, v := range ts {
		k = strings.TrimPrefix(strings.TrimPrefix(k, "distilbert."), "bert.")
		hf.tensors[k] = v
	}
	return hf, nil
}

// checkVocab insists the dataset was tokenised with the checkpoint's
// vocabulary: ids index the embedding table directly.
func (hf *hfCheckpoint) checkVocab(tok []string) error {
	if len(tok) == 0 {
		return nil
	}
	if len(tok) != len(hf.vocab) {
		return fmt.Errorf("%w: dataset tokenizer vocabulary has %d entries, checkpoint vocab.txt %d: set the dataset options tokenizer \"wordpiece\" with vocab_file %s", sdk.ErrInvalidConfig, len(tok), len(hf.vocab), filepath.Join(hf.dir, "vocab.txt"))
	}
	for i := range tok {
		if tok[i] != hf.vocab[i] {
			return fmt.Errorf("%w: dataset vocabulary differs from checkpoint vocab.txt at id %d (%q vs %q)", sdk.ErrInvalidConfig, i, tok[i], hf.vocab[i])
		}
	}
	return nil
}

// assign copies the checkpoint's tensors into the architecture. Torch
// Linear weights are [out, in] and are transposed to our [in, out]; the
// position table is cut to max_len; BERT's token-type row 0 (added to
// every token) is folded into the positions.
func (hf *hfCheckpoint) assign(a *Arch) error {
	take := func(p *optim.Param, transpose bool, names ...string) error {
		for _, name := range names {
			t, ok := hf.tensors[name]
			if !ok {
				continue
			}
			switch {
			case transpose && len(t.Dims) == 2 && len(p.Dims) == 2 && t.Dims[0] == p.Dims[1] && t.Dims[1] == p.Dims[0]:
				rows, cols := t.Dims[0], t.Dims[1]
				for i := range rows {
					for j := range cols {
						p.Data[j*rows+i] = t.Data[i*cols+j]
					}
				}
			case !transpose && len(t.Data) >= len(p.Data) && t.Dims[len(t.Dims)-1] == p.Dims[len(p.Dims)-1]:
				copy(p.Data, t.Data[:len(p.Data)])
			default:
				return fmt.Errorf("checkpoint tensor %s has shape %v, model %s needs %v", name, t.Dims, p.Name, p.Dims)
			}
			a.Loaded = append(a.Loaded, name)
			return nil
		}
		return fmt.Errorf("checkpoint %s lacks %s (tried %v)", hf.dir, p.Name, names)
	}
	type job struct {
		p         *optim.Param
		transpose bool
		names     []string
	}
	jobs := []job{
		{a.tok, false, []string{"embeddings.word_embeddings.weight"}},
		{a.pos, false, []string{"embeddings.position_embeddings.weight"}},
		{a.embG, false, []string{"embeddings.LayerNorm.weight", "embeddings.LayerNorm.gamma"}},
		{a.embB, false, []string{"embeddings.LayerNorm.bias", "embeddings.LayerNorm.beta"}},
	}
	for l, b := range a.blocks {
		d := fmt.Sprintf("transformer.layer.%d.", l) // DistilBERT
		e := fmt.Sprintf("encoder.layer.%d.", l)     // BERT
		jobs = append(jobs,
			job{b.wq, true, []string{d + "attention.q_lin.weight", e + "attention.self.query.weight"}},
			job{b.bq, false, []string{d + "attention.q_lin.bias", e + "attention.self.query.bias"}},
			job{b.wk, true, []string{d + "attention.k_lin.weight", e + "attention.self.key.weight"}},
			job{b.bk, false, []string{d + "attention.k_lin.bias", e + "attention.self.key.bias"}},
			job{b.wv, true, []string{d + "attention.v_lin.weight", e + "attention.self.value.weight"}},
			job{b.bv, false, []string{d + "attention.v_lin.bias", e + "attention.self.value.bias"}},
			job{b.wo, true, []string{d + "attention.out_lin.weight", e + "attention.output.dense.weight"}},
			job{b.bo, false, []string{d + "attention.out_lin.bias", e + "attention.output.dense.bias"}},
			job{b.ln1g, false, []string{d + "sa_layer_norm.weight", e + "attention.output.LayerNorm.weight", e + "attention.output.LayerNorm.gamma"}},
			job{b.ln1b, false, []string{d + "sa_layer_norm.bias", e + "attention.output.LayerNorm.bias", e + "attention.output.LayerNorm.beta"}},
			job{b.w1, true, []string{d + "ffn.lin1.weight", e + "intermediate.dense.weight"}},
			job{b.b1, false, []string{d + "ffn.lin1.bias", e + "intermediate.dense.bias"}},
			job{b.w2, true, []string{d + "ffn.lin2.weight", e + "output.dense.weight"}},
			job{b.b2, false, []string{d + "ffn.lin2.bias", e + "output.dense.bias"}},
			job{b.ln2g, false, []string{d + "output_layer_norm.weight", e + "output.LayerNorm.weight", e + "output.LayerNorm.gamma"}},
			job{b.ln2b, false, []string{d + "output_layer_norm.bias", e + "output.LayerNorm.bias", e + "output.LayerNorm.beta"}},
		)
	}
	for _, j := range jobs {
		if err := take(j.p, j.transpose, j.names...); err != nil {
			return fmt.Errorf("%w: %w", sdk.ErrInvalidConfig, err)
		}
	}
	if tt, ok := hf.tensors["embeddings.token_type_embeddings.weight"]; ok && len(tt.Data) >= a.cfg.Dim {
		d := a.cfg.Dim
		for i := range a.pos.Data {
			a.pos.Data[i] += tt.Data[i%d]
		}
		a.Loaded = append(a.Loaded, "embeddings.token_type_embeddings.weight")
	}
	return nil
}
