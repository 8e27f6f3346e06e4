"""The unified address library (统一地址库): one code, many addresses, every version kept."""
