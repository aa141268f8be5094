pub struct Circle {
    pub radius: f64,
}

impl Circle {
    pub fn scaled(&self, factor: f64) -> Circle {
        Circle { radius: super::clamp(self.radius * factor, 0.0, 1e6) }
    }

    pub fn area(&self) -> f64 {
        std::f64::consts::PI * self.radius * self.radius
    }
}
