"""Layer 1: bytes in, nodes + anchors + raw references out. Pure: no database, clock or network."""
