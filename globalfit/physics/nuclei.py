"""Target nuclei for CEvNS: isotopes of Cs, I, Ar, Ge and Xe.

Each `Isotope` carries ``Z``, ``N``, the nuclear mass (atomic mass minus ``Z`` electron
masses; electron binding energies, < 0.1 MeV, are neglected), the natural abundance and
an rms radius used as the weak-charge radius of the Helm form factor.

Sources (status FROM MEMORY unless stated; the numbers are standard tabulations and any
error at the 1e-4 level is irrelevant for CEvNS rates):

* atomic masses: AME2016/AME2020 (Wang et al., Chin. Phys. C 41 (2017) 030003);
* natural abundances: IUPAC 2013 isotopic compositions;
* rms charge radii: Angeli & Marinova, At. Data Nucl. Data Tables 99 (2013) 69. They are
  used as the nuclear (weak-charge) rms radius of the Helm form factor; the neutron skin
  of Cs/I (~0.1-0.3 fm) is not added here but is covered by the radius nuisance and the
  form-factor systematic (``docs/cevns.md``).
"""
from __future__ import annotations

from dataclasses import dataclass

from globalfit.physics.constants import ATOMIC_MASS_UNIT_GEV, ELECTRON_MASS_GEV


@dataclass(frozen=True)
class Isotope:
    """One isotope as CEvNS sees it.

    Attributes
    ----------
    name : str
        e.g. ``"Cs133"``.
    z, n : int
        Proton and neutron numbers.
    atomic_mass_u : float
        Atomic mass in unified atomic mass units.
    abundance : float
        Natural abundance (fraction of atoms of this element).
    rms_radius_fm : float
        Nuclear rms radius in fm (used by the Helm form factor).
    """

    name: str
    z: int
    n: int
    atomic_mass_u: float
    abundance: float
    rms_radius_fm: float

    @property
    def mass_number(self) -> int:
        return self.z + self.n

    @property
    def mass_gev(self) -> float:
        """Nuclear mass in GeV (atomic mass minus the electrons)."""
        return self.atomic_mass_u * ATOMIC_MASS_UNIT_GEV - self.z * ELECTRON_MASS_GEV


ISOTOPES: dict[str, tuple[Isotope, ...]] = {
    "Cs": (Isotope("Cs133", 55, 78, 132.905451961, 1.0, 4.8041),),
    "I": (Isotope("I127", 53, 74, 126.904472592, 1.0, 4.7500),),
    "Ar": (
        Isotope("Ar36", 18, 18, 35.967545105, 0.003336, 3.3905),
        Isotope("Ar38", 18, 20, 37.96273211, 0.000629, 3.4028),
        Isotope("Ar40", 18, 22, 39.9623831237, 0.996035, 3.4274),
    ),
    "Ge": (
        Isotope("Ge70", 32, 38, 69.92424875, 0.2057, 4.0414),
        Isotope("Ge72", 32, 40, 71.922075826, 0.2745, 4.0576),
        Isotope("Ge73", 32, 41, 72.923458956, 0.0775, 4.0632),
        Isotope("Ge74", 32, 42, 73.921177761, 0.3650, 4.0742),
        Isotope("Ge76", 32, 44, 75.921402726, 0.0773, 4.0811),
    ),
    "Xe": (  # solar 8B CEvNS in xenon
        Isotope("Xe124", 54, 70, 123.905892, 0.000952, 4.7644),
        Isotope("Xe126", 54, 72, 125.9042983, 0.000890, 4.7722),
        Isotope("Xe128", 54, 74, 127.903531, 0.019102, 4.7774),
        Isotope("Xe129", 54, 75, 128.9047808611, 0.264006, 4.7775),
        Isotope("Xe130", 54, 76, 129.903509349, 0.040710, 4.7818),
        Isotope("Xe131", 54, 77, 130.90508406, 0.212324, 4.7808),
        Isotope("Xe132", 54, 78, 131.9041550856, 0.269086, 4.7859),
        Isotope("Xe134", 54, 80, 133.90539466, 0.104357, 4.7899),
        Isotope("Xe136", 54, 82, 135.907214484, 0.088573, 4.7964),
    ),
}
"""Natural isotopic composition of each element used by the CEvNS likelihoods."""


def element(symbol: str) -> tuple[Isotope, ...]:
    """Isotopes of element ``symbol`` (``"Cs"``, ``"I"``, ``"Ar"``, ``"Ge"``, ``"Xe"``)."""
    if symbol not in ISOTOPES:
        raise ValueError(f"element {symbol!r} not available; choose from {sorted(ISOTOPES)}")
    return ISOTOPES[symbol]


def molar_mass_g(composition: dict[str, int]) -> float:
    """Molar mass in g/mol of a compound, e.g. ``{"Cs": 1, "I": 1}`` (natural abundances)."""
    total = 0.0
    for symbol, count in composition.items():
        isotopes = element(symbol)
        weight = sum(i.abundance for i in isotopes)
        total += count * sum(i.abundance * i.atomic_mass_u for i in isotopes) / weight
    return total


def target_isotopes(composition: dict[str, int], detector_mass_kg: float):
    """Isotopes of a detector and the number of nuclei of each.

    Parameters
    ----------
    composition : dict
        Atoms per formula unit, e.g. ``{"Cs": 1, "I": 1}`` or ``{"Ar": 1}``.
    detector_mass_kg : float
        Target mass in kg.

    Returns
    -------
    list of (Isotope, float)
        Each isotope with its number of nuclei in the detector.
    """
    from globalfit.physics.constants import AVOGADRO_PER_MOL

    if detector_mass_kg <= 0:
        raise ValueError(f"detector_mass_kg must be positive, got {detector_mass_kg}")
    formula_units = detector_mass_kg * 1.0e3 / molar_mass_g(composition) * AVOGADRO_PER_MOL
    result = []
    for symbol, count in composition.items():
        isotopes = element(symbol)
        weight = sum(i.abundance for i in isotopes)
        for isotope in isotopes:
            result.append((isotope, formula_units * count * isotope.abundance / weight))
    return result
