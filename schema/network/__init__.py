"""The network slice: the mains under the street (`PipeSegment`) and the outages that isolate them."""
