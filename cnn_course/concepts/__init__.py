"""The lectures' concepts as tested code, one module each.

- `arithmetic`: convolution arithmetic (cross-correlation, output sizes, parameters, MACs)
- `convolution_layers`: the lecture's convolution types as Keras layers (locally connected,
  deformable, CoordConv, spatially separable, local response normalization)
- `normalization`, `activations`: batch/layer/instance/group norm formulas; activations
- `backprop`, `autodiff`: backward passes through conv and pooling, checked against autodiff
- `evaluation`: classifier evaluation
- `toys`: small synthetic tasks the notebooks demonstrate with
"""
