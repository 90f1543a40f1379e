# Graph rules of matrix products, the layers of nn and the losses (see _engine_graph.pxi):
# each node's gradient in recorded Tensor ops, one rule per node name.
