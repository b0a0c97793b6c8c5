"""Earth regeneration of solar neutrinos from precomputed kernels (perturbative, fast).

A ``nu_2`` from the Sun crossing the Earth is detected as ``nu_e'`` (the effective
two-state flavour of `globalfit.physics.solar`) with probability ``P_2e = s12^2 + f_reg``.
In the vacuum mass basis the two-state Hamiltonian along the path is

    H(x) = diag(-Delta / 2, Delta / 2) + V(x) h(x),       Delta = Dm21 / (2 E),

with ``V = V_CC`` and ``h`` the matter (and NSI) coupling matrix
``M = [[a, b], [conj(b), -a]]``, ``a = c13^2 / 2 - eps_D^eff``, ``b = eps_N^eff``
(``eps^eff = eps^pe + Y_n eps^n``) rotated by ``th12``:

    h12 = a sin 2th12 + b c12^2 - conj(b) s12^2,      h11 = -h22 = a cos 2th12 - sin 2th12 Re b.

With ``tau`` the distance left to the detector and the diagonal part kept in the phase
``omega(x) = Delta - 2 V h11`` (interaction picture), to second order in the off-diagonal
``V h12``

    f_reg = sin 2th12 Re[-i J] + cos 2th12 |J|^2,
    J = int_0^L dtau V h12 exp(i int_0^tau omega).

The first term is the formula of Akhmedov, Tortola & Valle, JHEP 05 (2004) 057, and
Ioannisian & Smirnov, PRL 93 (2004) 241801, here with NSI in ``h``; the second follows from
unitarity (``|c_2|^2 = 1 - |c_1|^2`` for the amplitudes of the two mass states). In the first
term the matter part of the phase is kept to first order,
``exp(-2 i int V h11) ~ 1 - 2 i (h11^pe W + h11^n W_Y)`` with the column densities
``W = int_0^tau V`` and ``W_Y = int_0^tau V Y_n``; in ``|J|^2`` it is dropped (third order).
Then ``f_reg`` is linear in nine point-independent kernels of ``Delta`` per path:

    K_X(Delta) = int_0^L X(tau) exp(i Delta tau) D(tau) dtau,
    X in {V, V W, V W_Y, V Y_n, V Y_n W, V Y_n W_Y},
    <J_X conj(J_Y)>  for X, Y in {V, V Y_n}  (three pairs),

computed once (the first six exactly for constant-density layers, the last three from the
correlations of the profile on a 2 km grid) on a grid of ``ln Delta`` and averaged over each
detector's nadir exposure. ``D = exp(-(s Delta tau)^2 / 2)`` is the Gaussian average over a
relative width ``s`` in ``Delta`` (equivalently in energy), which removes the oscillations
in energy that no detector resolves (period ~0.03-0.3 MeV on long paths). A point then costs
an interpolation in the tables.

Neglected: terms of third order in ``V h / Delta`` (``V h / Delta`` is about 0.03-0.1 at
5-15 MeV for LMA, up to ~0.2 for LMA-Dark couplings in the core). Against exact layered
evolution (`globalfit.physics.solar.NightRegeneration`) averaged the same way, ``f_reg``
agrees to 0.1-0.3 % for LMA and LMA-Dark points (tests/test_earth_regeneration.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from globalfit.physics.solar import (
    KM_TIMES_EV,
    SolarOscillation,
    SolarOscillationArrays,
    charged_current_potential_ev,
    nadir_exposure,
)

KERNELS = ("V", "VW", "VWY", "VY", "VYW", "VYWY", "V.V", "V.VY", "VY.VY")
"""The first-order kernels (prefactor, then the column density of the phase term) and the
second-order ones (``<J_X conj(J_Y)>`` for ``X, Y`` in ``V``, ``V Y_n``)."""


@dataclass(frozen=True)
class KernelGrid:
    """Settings of the kernel tables.

    Attributes
    ----------
    smoothing : float
        Relative Gaussian width ``s`` of the average over ``Delta`` (= over energy).
    nadir_bins : int
        Equal bins in ``cos(nadir)`` over (0, 1] for the exposure average.
    step_km : float
        Largest constant-density layer (PREM shells are always cut at their boundaries).
    delta_min_ev, delta_max_ev : float
        Range of ``Delta = Dm21 / 2E`` tabulated (eV).
    log_step : float
        Grid step in ``ln Delta``.
    cell_km : float
        Cell size of the uniform grid on which the second-order kernels are computed.
    """

    smoothing: float = 0.05
    nadir_bins: int = 40
    step_km: float = 50.0
    delta_min_ev: float = 5.0e-6 / (2 * 20.0e6)
    delta_max_ev: float = 5.0e-4 / (2 * 2.5e6)
    log_step: float = 0.008
    cell_km: float = 2.0

    def __post_init__(self):
        if not 0.0 < self.smoothing < 0.5:
            raise ValueError(f"smoothing: must be in (0, 0.5), got {self.smoothing}")
        if not 0.0 < self.delta_min_ev < self.delta_max_ev:
            raise ValueError(f"delta range: need 0 < delta_min_ev < delta_max_ev, got "
                             f"{self.delta_min_ev}, {self.delta_max_ev}")


def _paths(cos_nadir: np.ndarray, step_km: float):
    """Layers of every path ordered from the detector backwards, concatenated.

    Returns ``(path_index, tau_start_km, length_km, v_cc_per_km, y_n)``, one entry per layer.
    """
    from globalfit.physics.matter import earth_layers

    rows = []
    for index, c in enumerate(cos_nadir):
        layers = np.array(earth_layers(float(np.arccos(c)), max_step_km=step_km))[::-1]
        length, density, y_e = layers.T
        tau_start = np.concatenate([[0.0], np.cumsum(length)[:-1]])
        v_cc = charged_current_potential_ev(density * y_e) * KM_TIMES_EV
        rows.append(np.column_stack([np.full(len(length), index), tau_start, length, v_cc, (1 - y_e) / y_e]))
    table = np.concatenate(rows)
    return table[:, 0].astype(int), table[:, 1], table[:, 2], table[:, 3], table[:, 4]


def _restart_cumulative(values: np.ndarray, path_index: np.ndarray) -> np.ndarray:
    """Exclusive cumulative sums that restart at every new path."""
    total = np.concatenate([[0.0], np.cumsum(values)[:-1]])
    first = np.flatnonzero(np.diff(path_index, prepend=-1))
    offsets = np.repeat(total[first], np.diff(np.append(first, len(values))))
    return total - offsets


@lru_cache(maxsize=8)
def _kernel_tables(latitudes: tuple, grid: KernelGrid):
    """``(log_delta_km, tables)``: tables of shape (6, n_detectors, n_delta), complex."""
    edges = np.linspace(0.0, 1.0, grid.nadir_bins + 1)
    centres = 0.5 * (edges[1:] + edges[:-1])
    weights = np.zeros((len(latitudes), grid.nadir_bins))
    for row, latitude in enumerate(latitudes):
        cos_nadir, weight, _ = nadir_exposure(latitude, grid.nadir_bins)
        weights[row, np.searchsorted(centres, cos_nadir - 1e-12)] = weight
    used = np.any(weights > 0, axis=0)
    path_index, tau, length, v, y_n = _paths(centres[used], grid.step_km)
    weights = weights[:, used]
    # column densities restart on every path
    w_start = _restart_cumulative(v * length, path_index)
    wy_start = _restart_cumulative(v * y_n * length, path_index)
    log_delta = np.arange(np.log(grid.delta_min_ev * KM_TIMES_EV),
                          np.log(grid.delta_max_ev * KM_TIMES_EV) + grid.log_step, grid.log_step)
    first = np.flatnonzero(np.diff(path_index, prepend=-1))
    tables = np.empty((len(KERNELS), len(latitudes), len(log_delta)), complex)
    correlations = _exposure_correlations(path_index, tau, length, v, y_n, weights, grid.cell_km)
    for chunk in np.array_split(np.arange(len(log_delta)), max(1, len(log_delta) // 32)):
        delta_km = np.exp(log_delta[chunk])
        per_layer = _layer_kernels(delta_km, tau, length, v, y_n, w_start, wy_start, grid.smoothing)
        per_path = np.add.reduceat(per_layer, first, axis=-1)          # (6, n_chunk, n_paths)
        tables[:6, :, chunk] = np.einsum("kcp,dp->kdc", per_path, weights)
        tables[6:, :, chunk] = _second_order_kernels(delta_km, correlations, grid.cell_km, grid.smoothing)
    return log_delta, tables


def _layer_kernels(delta_km: np.ndarray, tau, length, v, y_n, w_start, wy_start, smoothing: float) -> np.ndarray:
    """The six kernel contributions of each layer, shape (6, n_delta, n_layers).

    Within a layer ``V`` and ``Y_n`` are constant and the column densities grow linearly,
    ``W(tau) = W_start + V (tau - tau_start)``; the integrals of ``exp(i Delta tau)`` and
    ``(tau - tau_start) exp(i Delta tau)`` are exact, the damping ``D`` is taken at the
    layer's midpoint.
    """
    d = delta_km[:, None]
    phase_step = np.exp(1j * d * length)
    i0 = (phase_step - 1.0) / (1j * d)
    i1 = length * phase_step / (1j * d) + (phase_step - 1.0) / d**2
    start = np.exp(1j * d * tau - 0.5 * (smoothing * d * (tau + 0.5 * length)) ** 2)
    i0, i1 = start * i0, start * i1
    w_integral = w_start * i0 + v * i1
    wy_integral = wy_start * i0 + v * y_n * i1
    return np.stack([v * i0, v * w_integral, v * wy_integral,
                     v * y_n * i0, v * y_n * w_integral, v * y_n * wy_integral])


def _cell_averages(tau_start, length, values, n_cells: int, cell_km: float) -> np.ndarray:
    """Averages of a piecewise-constant profile over cells of ``cell_km`` (exact: its
    integral is piecewise linear between layer boundaries)."""
    boundaries = np.concatenate([tau_start, [tau_start[-1] + length[-1]]])
    integral = np.concatenate([[0.0], np.cumsum(values * length)])
    return np.diff(np.interp(np.arange(n_cells + 1) * cell_km, boundaries, integral)) / cell_km


def _exposure_correlations(path_index, tau, length, v, y_n, weights, cell_km: float) -> np.ndarray:
    """Exposure-weighted correlations ``C_XY[m] = sum_k X_k Y_(k-m)`` of the cell-averaged
    profiles ``X, Y`` in (``V``, ``V Y_n``), for lags ``m >= 0``.

    Returns shape (4, n_detectors, n_lags) for the pairs (V V, V VY, VY V, VY VY).
    """
    from scipy.signal import correlate

    n_lags = int(np.ceil((tau + length).max() / cell_km)) + 1
    out = np.zeros((4, weights.shape[0], n_lags))
    for path in range(weights.shape[1]):
        here = path_index == path
        n_cells = int(np.ceil((tau[here] + length[here]).max() / cell_km))
        profile_v = _cell_averages(tau[here], length[here], v[here], n_cells, cell_km)
        profile_vy = _cell_averages(tau[here], length[here], v[here] * y_n[here], n_cells, cell_km)
        for row, (x, y) in enumerate(((profile_v, profile_v), (profile_v, profile_vy),
                                      (profile_vy, profile_v), (profile_vy, profile_vy))):
            lags = correlate(x, y, mode="full", method="fft")[n_cells - 1:]      # m = 0 .. n_cells - 1
            out[row, :, :n_cells] += weights[:, path, None] * lags
    return out


def _second_order_kernels(delta_km, correlations, cell_km: float, smoothing: float) -> np.ndarray:
    """``<J_X conj(J_Y)>`` averaged over ``Delta`` for (V V, V VY, VY VY), shape (3, n_det, n_delta).

    For profiles constant on cells of size ``h``,
    ``J_X conj(J_Y) = h^2 sinc^2(Delta h / 2) sum_m exp(i Delta m h) C_XY[m]``; the average
    over ``Delta`` multiplies each lag by ``exp(-(s Delta m h)^2 / 2)``.
    """
    d = delta_km[:, None]
    lag = np.arange(correlations.shape[-1]) * cell_km
    damping = np.exp(-0.5 * (smoothing * d * lag) ** 2)
    damping[:, 0] *= 0.5                                    # m = 0 is counted once in the sum below
    cos_part, sin_part = damping * np.cos(d * lag), damping * np.sin(d * lag)
    form = (cell_km * np.sinc(delta_km * cell_km / (2 * np.pi))) ** 2
    vv, v_vy, vy_v, vy_vy = correlations
    pair = lambda xy, yx: form * ((xy + yx) @ cos_part.T + 1j * (xy - yx) @ sin_part.T)  # noqa: E731
    return np.stack([pair(vv, vv), pair(v_vy, vy_v), pair(vy_vy, vy_vy)])


def mass_basis_couplings(osc: SolarOscillation | SolarOscillationArrays):
    """``(h12_pe, h12_n, h11_pe, h11_n)``: the matter/NSI coupling per electron and per
    neutron in the vacuum mass basis (see the module docstring); columns (n_points, 1) for a
    `SolarOscillationArrays`."""
    c13sq = np.cos(osc.th13) ** 2
    s2, c2 = np.sin(2 * osc.th12), np.cos(2 * osc.th12)
    s_sq, c_sq = np.sin(osc.th12) ** 2, np.cos(osc.th12) ** 2
    a_pe, a_n = 0.5 * c13sq - osc.eps_d_pe, -osc.eps_d_n
    b_pe, b_n = np.asarray(osc.eps_n_pe, complex), np.asarray(osc.eps_n_n, complex)
    h12 = lambda a, b: a * s2 + b * c_sq - np.conj(b) * s_sq  # noqa: E731
    h11 = lambda a, b: a * c2 - s2 * b.real  # noqa: E731
    return h12(a_pe, b_pe), h12(a_n, b_n), h11(a_pe, b_pe), h11(a_n, b_n)


class EarthRegeneration:
    """Exposure-averaged ``P_2e(E)`` of several detectors from precomputed kernels.

    Parameters
    ----------
    latitudes_deg : dict
        Detector name -> latitude in degrees (the nadir exposure follows from it, see
        `globalfit.physics.solar.nadir_exposure`).
    grid : KernelGrid, optional
        Table settings. The tables are built once per process for each set of latitudes
        and settings (about a second).
    """

    def __init__(self, latitudes_deg: dict, grid: KernelGrid | None = None):
        self.grid = grid or KernelGrid()
        self.detectors = tuple(latitudes_deg)
        self.log_delta_km, self.tables = _kernel_tables(tuple(float(latitudes_deg[d]) for d in self.detectors),
                                                        self.grid)

    def covers(self, energy_mev, dm21_ev2):
        """Whether ``Dm21 / 2E`` of all energies lies inside the tables: a bool, or a boolean
        array (n_points,) for ``dm21_ev2`` of shape (n_points, 1)."""
        log_delta = np.log(dm21_ev2 / (2e6 * np.asarray(energy_mev, float)) * KM_TIMES_EV)
        inside = (log_delta.min(axis=-1) >= self.log_delta_km[0]) & (log_delta.max(axis=-1) <= self.log_delta_km[-1])
        return bool(inside) if np.ndim(inside) == 0 else inside

    def kernels(self, energy_mev, dm21_ev2) -> np.ndarray:
        """Kernels interpolated at ``Delta = Dm21 / 2E``, shape (9, n_detectors, n_energies), or
        (9, n_detectors, n_points, n_energies) for ``dm21_ev2`` of shape (n_points, 1)."""
        log_delta = np.log(dm21_ev2 / (2e6 * np.asarray(energy_mev, float)) * KM_TIMES_EV)
        position = (log_delta - self.log_delta_km[0]) / self.grid.log_step
        if position.min() < 0 or position.max() > len(self.log_delta_km) - 1:
            raise ValueError(f"dm21_ev2 = {dm21_ev2} with energies {np.min(energy_mev)}-{np.max(energy_mev)} MeV: "
                             f"Dm21/2E outside the tabulated "
                             f"{self.grid.delta_min_ev:.3g}-{self.grid.delta_max_ev:.3g} eV")
        index = np.minimum(position.astype(int), len(self.log_delta_km) - 2)
        fraction = position - index
        return self.tables[:, :, index] * (1 - fraction) + self.tables[:, :, index + 1] * fraction

    def coherence(self, energy_mev, osc: SolarOscillation) -> dict:
        """Detector name -> ``(<|c_1|^2>, <c_1 conj(c_2)>)`` at ``energy_mev`` (MeV).

        ``c_1``, ``c_2`` are the amplitudes of ``nu_1``, ``nu_2`` at the detector of a ``nu_2``
        that entered the Earth, exposure- and energy-averaged like ``P_2e``: to second order
        ``<|c_1|^2> = <|J|^2>`` (real) and ``<c_1 conj(c_2)> = <-i J>`` (complex, first order with
        the phase term). ``f_reg = sin 2th12 Re<c_1 conj(c_2)> + cos 2th12 <|c_1|^2>``; the
        imaginary part is what the ``nu_mu``/``nu_tau`` split at night needs
        (`globalfit.physics.solar_flavour`).
        """
        batch = self.coherence_batch(energy_mev, SolarOscillationArrays.stack([osc]))
        return {name: (second[0], first[0]) for name, (second, first) in batch.items()}

    def coherence_batch(self, energy_mev, osc: SolarOscillationArrays) -> dict:
        """`coherence` at every point of ``osc``: each entry of shape (n_points, n_energies)."""
        k = self.kernels(energy_mev, osc.dm21_ev2)
        h12_pe, h12_n, h11_pe, h11_n = mass_basis_couplings(osc)
        amplitude = (h12_pe * (k[0] - 2j * (h11_pe * k[1] + h11_n * k[2]))
                     + h12_n * (k[3] - 2j * (h11_pe * k[4] + h11_n * k[5])))
        second = (abs(h12_pe) ** 2 * k[6].real + 2 * (h12_pe * np.conj(h12_n) * k[7]).real
                  + abs(h12_n) ** 2 * k[8].real)
        return {name: (second[row], -1j * amplitude[row]) for row, name in enumerate(self.detectors)}

    def regeneration(self, energy_mev, osc: SolarOscillation) -> dict:
        """Detector name -> ``f_reg(E) = <P_2e> - s12^2`` at ``energy_mev`` (MeV)."""
        s2, c2 = np.sin(2 * osc.th12), np.cos(2 * osc.th12)
        return {name: s2 * first.real + c2 * second
                for name, (second, first) in self.coherence(energy_mev, osc).items()}

    def mean_p2e(self, energy_mev, osc: SolarOscillation) -> dict:
        """Detector name -> exposure-averaged ``P_2e(E)``."""
        s12sq = np.sin(osc.th12) ** 2
        return {name: s12sq + f for name, f in self.regeneration(energy_mev, osc).items()}
