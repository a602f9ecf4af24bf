//! Kernel windows over one channel's plane, shared by the layers that slide a kernel (Conv, AveragePool).

use crate::layouter::Wire;

/// The cells of one channel's kernel window at output (oy, ox), row-major; taps in the zero padding are `pad`.
/// `x` is that channel's h×w plane.
pub fn window(x: &[Wire], (h, w): (usize, usize), (oy, ox): (usize, usize), kernel: [usize; 2], stride: [usize; 2], pads: [usize; 4], pad: Wire, out: &mut Vec<Wire>) {
    for ky in 0..kernel[0] {
        let iy = (oy * stride[0] + ky) as isize - pads[0] as isize;
        for kx in 0..kernel[1] {
            let ix = (ox * stride[1] + kx) as isize - pads[1] as isize;
            out.push(if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                pad
            } else {
                x[iy as usize * w + ix as usize]
            });
        }
    }
}
