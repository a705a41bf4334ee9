// The Segmentation module; see DESIGN.md §3.
