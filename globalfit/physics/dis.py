"""Neutrino-quark deep-inelastic scattering: effective couplings with NSI (NuTeV, CHARM).

Physics (physics.md section 6; Davidson et al., JHEP 0303 (2003) 011, hep-ph/0302093).
In the quark-parton model the neutral-to-charged-current ratios of an isoscalar target are

    R^nu = g_L^2 + r g_R^2,   R^nubar = g_L^2 + g_R^2 / r,   r = sigma_CC(nubar) / sigma_CC(nu),

with ``g_P^2 = sum_{q=u,d} (g_P^q)^2`` and ``g_L^u = 1/2 - 2/3 s^2``, ``g_L^d = -1/2 + 1/3 s^2``,
``g_R^u = -2/3 s^2``, ``g_R^d = 1/3 s^2`` (``s^2 = sin^2 theta_W``). Chiral NSI with quarks
(``-2 sqrt2 G_F eps^{qP}_{ab}``, physics.md section 0) change the neutral current of an incoming
``nu_a`` into

    (g_P^a)^2 = sum_q [ (g_P^q + eps^{qP}_aa)^2 + sum_{b != a} |eps^{qP}_ba|^2 ].

Light mediator. Each NSI amplitude carries ``f(Q^2) = m^2 / (m^2 + Q^2)``. Averaged over the
experiment's distribution of momentum transfer (weights ``w(Q^2)`` of the Standard-Model
neutral-current events) the measured combination is

    (g_P^a)^2 = sum_q [ g^2 + 2 g Re(eps0_aa) <f>_P + (|eps0_aa|^2 + sum_b |eps0_ba|^2) <f^2>_P ],

which reduces to the formula above for a contact interaction (``<f> = <f^2> = 1``). Using
``f(<Q^2>)`` instead of the averages underestimates the light-mediator effect because ``f`` is
convex in ``Q^2``; `Q2Distribution` provides both.

Units: GeV, GeV^2.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from globalfit.couplings import FLAVOURS, Couplings
from globalfit.physics.constants import NEUTRON_MASS_GEV, PROTON_MASS_GEV

QUARKS = ("u", "d")
CHIRALITIES = ("L", "R")
NUCLEON_MASS_GEV = 0.5 * (PROTON_MASS_GEV + NEUTRON_MASS_GEV)
COMPRESSED_BINS = 256
Q2_MODES = ("distribution", "mean")


def tree_level_quark_couplings(sin2_theta_w: float) -> dict[tuple[str, str], float]:
    """Tree-level chiral Z couplings of u and d quarks, ``g_P^q = T_3 - Q s^2`` (P = L)
    and ``-Q s^2`` (P = R).

    Parameters
    ----------
    sin2_theta_w : float
        ``sin^2 theta_W`` (dimensionless, in the scheme the caller chooses).

    Returns
    -------
    dict
        ``{(q, P): g_P^q}`` for ``q`` in ``("u", "d")``, ``P`` in ``("L", "R")``.
    """
    s2 = float(sin2_theta_w)
    if not 0.0 < s2 < 1.0:
        raise ValueError(f"sin2_theta_w must lie in (0, 1), got {sin2_theta_w}")
    return {
        ("u", "L"): 0.5 - 2.0 / 3.0 * s2,
        ("d", "L"): -0.5 + 1.0 / 3.0 * s2,
        ("u", "R"): -2.0 / 3.0 * s2,
        ("d", "R"): 1.0 / 3.0 * s2,
    }


def normalised_quark_couplings(
    sin2_theta_w: float, gl2_sm: float, gr2_sm: float
) -> dict[tuple[str, str], float]:
    """Tree-level quark couplings rescaled, per chirality, so that ``sum_q (g_P^q)^2``
    equals an experiment's published Standard-Model ``g_P^2`` (radiative corrections, scheme).

    The common factor per chirality keeps the u/d ratio of the tree-level couplings; it is
    documented in ``docs/likelihoods/scattering.md`` (about 1.00 for L and 1.05 for R at NuTeV).
    """
    tree = tree_level_quark_couplings(sin2_theta_w)
    scaled = {}
    for chirality, target in (("L", gl2_sm), ("R", gr2_sm)):
        if target <= 0:
            raise ValueError(f"g_{chirality}^2 (SM) must be positive, got {target}")
        norm = sum(tree[(q, chirality)] ** 2 for q in QUARKS)
        factor = np.sqrt(target / norm)
        for q in QUARKS:
            scaled[(q, chirality)] = tree[(q, chirality)] * factor
    return scaled


def compress_log_bins(q2_gev2: np.ndarray, weights: np.ndarray, n_bins: int = COMPRESSED_BINS):
    """Sum weights into ``n_bins`` bins of ``log Q^2``, each represented by its weighted mean
    ``Q^2``: propagator averages then cost ``n_bins`` operations. ``<Q^2>`` is exact; ``<f>``
    changes by less than 1e-4 relative for 256 bins (tested)."""
    keep = weights > 0
    q2, w = q2_gev2[keep], weights[keep]
    edges = np.geomspace(q2.min(), q2.max() * (1 + 1e-12), n_bins + 1)
    index = np.clip(np.searchsorted(edges, q2, side="right") - 1, 0, n_bins - 1)
    w_bin = np.bincount(index, weights=w, minlength=n_bins)
    q2_bin = np.bincount(index, weights=w * q2, minlength=n_bins)
    filled = w_bin > 0
    return q2_bin[filled] / w_bin[filled], w_bin[filled] / w_bin.sum()


@dataclass(frozen=True)
class Q2Distribution:
    """Distribution of momentum transfer of an experiment's neutral-current events.

    ``q2_gev2[P]`` are sample points and ``weights[P]`` their normalised weights for the
    terms of chirality ``P`` (left-handed quark couplings: flat in ``y`` for neutrinos;
    right-handed: ``(1 - y)^2``). A single value (``from_mean``) gives ``f(<Q^2>)``.
    """

    q2_gev2: Mapping[str, np.ndarray]
    weights: Mapping[str, np.ndarray]
    label: str = ""

    @classmethod
    def from_mean(cls, q2_gev2: float, label: str = "") -> Q2Distribution:
        """All events at one momentum transfer ``q2_gev2`` (GeV^2)."""
        if not (np.isfinite(q2_gev2) and q2_gev2 >= 0):
            raise ValueError(f"q2_gev2 must be finite and >= 0, got {q2_gev2}")
        one = np.array([float(q2_gev2)])
        return cls({p: one for p in CHIRALITIES}, {p: np.ones(1) for p in CHIRALITIES},
                   label or f"<Q^2> = {q2_gev2:g} GeV^2")

    @classmethod
    def parton_model(
        cls,
        energy_gev: float,
        hadronic_energy_min_gev: float = 0.0,
        x_power_low: float = 0.5,
        x_power_high: float = 3.0,
        q2_min_gev2: float = 0.0,
        n_x: int = 200,
        n_y: int = 200,
        label: str = "",
    ) -> Q2Distribution:
        """Leading-order parton-model distribution ``Q^2 = 2 M E x y`` at beam energy ``E``.

        Events are weighted by ``x q(x) ~ x^a (1 - x)^b`` (a valence-like shape; the
        default ``a = 0.5, b = 3`` is an approximation, not a PDF fit) times the ``y``
        dependence of each chirality (``1`` for L, ``(1 - y)^2`` for R), with the
        experiment's cut on hadronic energy ``y E > E_had,min``.

        Parameters
        ----------
        energy_gev : float
            Neutrino energy in GeV (a representative mean energy of the beam).
        hadronic_energy_min_gev : float
            Minimum hadronic energy ``y E`` in GeV.
        x_power_low, x_power_high : float
            Exponents ``a``, ``b`` of the ``x`` shape.
        q2_min_gev2 : float
            Events below this ``Q^2`` are dropped: the parton model does not hold there and
            the structure functions vanish as ``Q^2 -> 0`` (a hard cut stands in for that).
        n_x, n_y : int
            Grid sizes (midpoint rule).
        """
        if not energy_gev > 0:
            raise ValueError(f"energy_gev must be > 0, got {energy_gev}")
        y_min = hadronic_energy_min_gev / energy_gev
        if not 0.0 <= y_min < 1.0:
            raise ValueError(
                f"hadronic_energy_min_gev={hadronic_energy_min_gev} must be below energy_gev={energy_gev}"
            )
        x = (np.arange(n_x) + 0.5) / n_x
        y = y_min + (1.0 - y_min) * (np.arange(n_y) + 0.5) / n_y
        x_weight = x**x_power_low * (1.0 - x) ** x_power_high
        q2 = 2.0 * NUCLEON_MASS_GEV * energy_gev * np.outer(x, y)
        samples, weights = {}, {}
        for chirality, y_weight in (("L", np.ones_like(y)), ("R", (1.0 - y) ** 2)):
            w = np.outer(x_weight, y_weight).ravel() * (q2.ravel() >= q2_min_gev2)
            samples[chirality], weights[chirality] = compress_log_bins(q2.ravel(), w)
        return cls(samples, weights,
                   label or f"parton model, E = {energy_gev:g} GeV, E_had > {hadronic_energy_min_gev:g} GeV")

    @classmethod
    def parton_model_with_mean(
        cls,
        mean_q2_gev2: float,
        hadronic_energy_min_gev: float = 0.0,
        x_power_low: float = 0.5,
        x_power_high: float = 3.0,
        q2_min_gev2: float = 0.0,
        label: str = "",
    ) -> Q2Distribution:
        """`parton_model` with the beam energy chosen so that the left-handed ``<Q^2>``
        equals ``mean_q2_gev2`` (the shape from the parton model, the scale from the
        experiment's quoted mean momentum transfer)."""
        if not mean_q2_gev2 > q2_min_gev2 >= 0:
            raise ValueError(
                f"mean_q2_gev2 must exceed q2_min_gev2 >= 0, got {mean_q2_gev2} and {q2_min_gev2}"
            )
        mean_x = (x_power_low + 1.0) / (x_power_low + x_power_high + 2.0)
        energy = max(mean_q2_gev2 / (NUCLEON_MASS_GEV * mean_x), 1.01 * hadronic_energy_min_gev)
        for _ in range(50):
            dist = cls.parton_model(energy, hadronic_energy_min_gev, x_power_low, x_power_high, q2_min_gev2)
            ratio = mean_q2_gev2 / dist.mean_q2("L")
            if abs(ratio - 1.0) < 1e-10:
                break
            energy = max(energy * ratio, 1.0001 * hadronic_energy_min_gev)
        else:
            raise ValueError(
                f"could not reach <Q^2> = {mean_q2_gev2} GeV^2 with E_had > {hadronic_energy_min_gev} GeV"
            )
        return cls(dist.q2_gev2, dist.weights,
                   label or f"parton model scaled to <Q^2> = {mean_q2_gev2:g} GeV^2 (E = {energy:.1f} GeV)")

    @classmethod
    def from_kinematics(cls, kinematics: Mapping[str, float], mode: str = "distribution",
                        mean_q2_gev2: float | None = None, label: str = "") -> Q2Distribution:
        """Distribution described by a data file's ``kinematics`` block (``mean_q2_gev2`` and
        optionally ``hadronic_energy_min_gev``, ``x_power_low``, ``x_power_high``,
        ``q2_min_gev2``): ``mode="distribution"`` (`parton_model_with_mean`) or ``"mean"``
        (`from_mean`). ``mean_q2_gev2`` overrides the file's mean."""
        if mode not in Q2_MODES:
            raise ValueError(f"q2_mode: {mode!r} not allowed; choose from {Q2_MODES}")
        mean = float(kinematics["mean_q2_gev2"] if mean_q2_gev2 is None else mean_q2_gev2)
        if mode == "mean":
            return cls.from_mean(mean, label=f"{label}: Q^2 = {mean:g} GeV^2" if label else "")
        return cls.parton_model_with_mean(
            mean,
            hadronic_energy_min_gev=float(kinematics.get("hadronic_energy_min_gev", 0.0)),
            x_power_low=float(kinematics.get("x_power_low", 0.5)),
            x_power_high=float(kinematics.get("x_power_high", 3.0)),
            q2_min_gev2=float(kinematics.get("q2_min_gev2", 0.0)),
        )

    def mean_q2(self, chirality: str = "L") -> float:
        """Weighted mean ``<Q^2>`` in GeV^2."""
        return float(np.dot(self.weights[chirality], self.q2_gev2[chirality]))

    def propagator_moments(self, mzp_gev: float | None, chirality: str) -> tuple[float, float]:
        """``(<f>, <f^2>)`` of ``f = m^2 / (m^2 + Q^2)``; ``(1, 1)`` for a contact interaction."""
        if chirality not in CHIRALITIES:
            raise ValueError(f"chirality {chirality!r} not allowed; choose from {CHIRALITIES}")
        if mzp_gev is None:
            return 1.0, 1.0
        m2 = float(mzp_gev) ** 2
        f = m2 / (m2 + self.q2_gev2[chirality])
        w = self.weights[chirality]
        return float(np.dot(w, f)), float(np.dot(w, f * f))


def effective_couplings_squared(
    couplings: Couplings,
    flavour: str,
    quark_couplings: Mapping[tuple[str, str], float],
    q2_distribution: Q2Distribution | None = None,
) -> dict[str, float]:
    """``(g_L^a)^2`` and ``(g_R^a)^2`` of an incoming ``nu_a`` with NSI (module docstring).

    Parameters
    ----------
    couplings : Couplings
        The model's couplings; chiral quark NSI at ``Q^2 = 0`` and ``mzp_gev`` are read.
    flavour : str
        Incoming neutrino flavour, ``"e"``, ``"mu"`` or ``"tau"``.
    quark_couplings : mapping
        Standard-Model ``g_P^q`` (e.g. from `normalised_quark_couplings`).
    q2_distribution : Q2Distribution, optional
        Momentum-transfer distribution; needed only for a light mediator.

    Returns
    -------
    dict
        ``{"L": g_L^2, "R": g_R^2}`` (dimensionless).
    """
    if flavour not in FLAVOURS:
        raise ValueError(f"flavour {flavour!r} not allowed; choose from {FLAVOURS}")
    a = FLAVOURS.index(flavour)
    if couplings.mzp_gev is not None and q2_distribution is None:
        raise ValueError("q2_distribution is required for a light mediator (mzp_gev is set)")
    result = {}
    for chirality in CHIRALITIES:
        if couplings.mzp_gev is None:
            f1, f2 = 1.0, 1.0
        else:
            f1, f2 = q2_distribution.propagator_moments(couplings.mzp_gev, chirality)
        total = 0.0
        for q in QUARKS:
            g = quark_couplings[(q, chirality)]
            eps = couplings.eps_chiral(q, chirality, 0.0)
            column = eps[:, a]  # eps_ba, b = outgoing flavour
            diagonal = column[a].real
            squared = float(np.sum(np.abs(column) ** 2))  # |eps_aa|^2 + sum_b |eps_ba|^2
            total += g * g + 2.0 * g * diagonal * f1 + squared * f2
        result[chirality] = total
    return result
