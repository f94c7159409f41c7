"""Issue reports (事件上报) and the closed loop from 上报 to 结案 (GB/T 30428)."""
