// When classifier-free guidance can be left out. Guidance 1 is the prompt's ε̂ alone (ε_u + 1·(ε_c − ε_u) = ε_c),
// so the unconditional half of the batch is not computed: one UNet batch instead of two, the same image. diffusers
// skips it for any guidance ≤ 1; below 1 the app keeps the guidance (it then means something).
export const unguided = (guidance: number) => guidance === 1;
