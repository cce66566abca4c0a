// Anchor translation unit for the shared LibTorch precompiled header.
#include "model/torch_pch.h"
